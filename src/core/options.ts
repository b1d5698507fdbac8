import { z } from 'zod';

/** The most any server can allow; each server's admins set their own limits below these (quotas.ts). */
export const MAX_SIZE = 4096;
export const MAX_ITERATIONS = 100_000;

/** What a member may choose for one painting; stored with the job as JSON and read back through this schema. */
export const jobOptionsSchema = z.object({
  /** Longer side of the result, in pixels. */
  size: z
    .number()
    .int('The size is a whole number of pixels.')
    .min(16, 'The size must be at least 16 px.')
    .max(MAX_SIZE, `The size can be at most ${MAX_SIZE} px.`)
    .default(384),
  iterations: z
    .number()
    .int('The number of iterations is a whole number.')
    .min(1, 'Ask for at least 1 iteration.')
    .max(MAX_ITERATIONS, `Ask for at most ${MAX_ITERATIONS} iterations.`)
    .default(300),
  /** 0-100: how strongly the painting's style is applied (see weightsFromStrength). */
  strength: z
    .number()
    .min(0, 'The strength goes from 0 to 100.')
    .max(100, 'The strength goes from 0 to 100.')
    .default(50),
  /** `shallow` is 3-4× faster and needs only the first three VGG blocks. */
  layers: z.enum(['paper', 'shallow']).default('paper'),
  preserveColors: z.boolean().default(false),
});
export type JobOptions = z.infer<typeof jobOptionsSchema>;
export type JobOptionsInput = z.input<typeof jobOptionsSchema>;

/** The job's style images: stored references, in the order they were given, with their blend weights. */
export const styleRefsSchema = z
  .array(
    z.object({
      ref: z.string(),
      name: z.string(),
      weight: z.number().positive(),
      /** A preset (the worker caches its style targets); absent in jobs queued before this was recorded. */
      preset: z.boolean().optional(),
    }),
  )
  .min(1);
export type StyleRefs = z.infer<typeof styleRefsSchema>;
