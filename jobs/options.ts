import { z } from 'zod';
import { ITERATIONS, LAYERS, SIZE, STRENGTH } from '../lib/request-rules.ts';

/** The most any server can allow; each server's admins set their own limits below these (rules/quotas.ts). */
export const MAX_SIZE = SIZE.max;
export const MAX_ITERATIONS = ITERATIONS.max;

/** What a member may choose for one painting; stored with the job as JSON and read back through this schema. */
export const jobOptionsSchema = z.object({
  /** Longer side of the result, in pixels. */
  size: z
    .number()
    .int('The size is a whole number of pixels.')
    .min(SIZE.min, `The size must be at least ${SIZE.min} px.`)
    .max(MAX_SIZE, `The size can be at most ${MAX_SIZE} px.`)
    .default(SIZE.default),
  iterations: z
    .number()
    .int('The number of iterations is a whole number.')
    .min(ITERATIONS.min, `Ask for at least ${ITERATIONS.min} iteration.`)
    .max(MAX_ITERATIONS, `Ask for at most ${MAX_ITERATIONS} iterations.`)
    .default(ITERATIONS.default),
  /** 0-100: how strongly the painting's style is applied (see weightsFromStrength). */
  strength: z
    .number()
    .min(STRENGTH.min, `The strength goes from ${STRENGTH.min} to ${STRENGTH.max}.`)
    .max(STRENGTH.max, `The strength goes from ${STRENGTH.min} to ${STRENGTH.max}.`)
    .default(STRENGTH.default),
  /** `shallow` is 3-4× faster and needs only the first three VGG blocks; `auto` is the painting worker's best. */
  layers: z.enum(LAYERS).default('auto'),
  preserveColors: z.boolean().default(false),
});
export type JobOptions = z.infer<typeof jobOptionsSchema>;
export type JobOptionsInput = z.input<typeof jobOptionsSchema>;
/**
 * Options checked before the images arrive: the strength only where the member chose one, since a preset's own
 * recommended strength is its default (submitJob resolves it).
 */
export type CheckedOptions = Omit<JobOptions, 'strength'> & { strength?: number };

/** The job's style images: stored references, in the order they were given, with their blend weights. */
export const styleRefsSchema = z
  .array(
    z.object({
      ref: z.string(),
      name: z.string(),
      weight: z.number().positive(),
      /** A preset (the worker caches its style targets); absent in jobs stored by versions that did not record it. */
      preset: z.boolean().optional(),
    }),
  )
  .min(1);
export type StyleRefs = z.infer<typeof styleRefsSchema>;

/**
 * What a variation of a finished painting changes (variations.ts): the strength up or down, the colours kept or
 * not, or a larger size started from the painting itself.
 */
export const VARIATIONS = ['more-style', 'less-style', 'colours', 'larger'] as const;
export type VariationKind = (typeof VARIATIONS)[number];
/** How much larger a `larger` variation paints than its painting (its longer side, within the server's largest). */
export const LARGER_FACTOR = 1.5;

/** The size of a larger variation of a painting of `size`: LARGER_FACTOR times, at most `maxSize`; null when that is no larger. */
export function largerSize(size: number, maxSize: number): number | null {
  const larger = Math.min(Math.round(size * LARGER_FACTOR), maxSize);
  return larger > size ? larger : null;
}
