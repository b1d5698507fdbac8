import { z } from 'zod';
import { BACKENDS, DEFAULT_STOP } from '../engine/index.ts';

/** Where the result goes without --out: in the working directory, as neural-style and its peers do. */
export const DEFAULT_OUT = 'out.png';
/** Iterations between progress lines when stderr is not a terminal (piped, under Docker): a few dozen lines. */
export const DEFAULT_PRINT_EVERY = 20;

/** The `stylize` command's options, validated once: every error names the option and what it accepts. */
const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `--${name} must be a number` })
    .int(`--${name} must be a whole number`)
    .min(min, `--${name} must be at least ${min}`)
    .max(max, `--${name} must be at most ${max}`);
const num = (name: string, min: number) =>
  z.coerce.number({ error: `--${name} must be a number` }).min(min, `--${name} must be at least ${min}`);

export const runOptionsSchema = z.object({
  style: z.string({ error: '--style is required: a preset name or an image path (several: a,b)' }).min(1),
  styleWeights: z
    .string()
    .transform((s) => s.split(',').map(Number))
    .refine(
      (ws) => ws.every((w) => Number.isFinite(w) && w > 0),
      '--style-weights takes positive numbers, e.g. 0.7,0.3',
    )
    .optional(),
  out: z.string().min(1, '--out must name a file (.png or .jpg)').default(DEFAULT_OUT),
  compare: z.string().optional(),
  timelapse: z.string().optional(),
  size: int('size', 16, 4096).default(384),
  iterations: int('iterations', 1, 100_000).default(300),
  earlyStop: z.boolean().default(true),
  stopTolerance: num('stop-tolerance', 0)
    .max(1, '--stop-tolerance must be at most 1')
    .default(DEFAULT_STOP.tolerance),
  stopWindow: int('stop-window', 1, 100_000).default(DEFAULT_STOP.window),
  /** Undefined: the preset's recommended strength, else the operator's default (STYLIZE_STRENGTH). */
  strength: num('strength', 0).max(100, '--strength must be at most 100').optional(),
  contentWeight: num('content-weight', 0).optional(),
  styleWeight: num('style-weight', 0).optional(),
  tvWeight: num('tv-weight', 0).optional(),
  layers: z.string().default('auto'),
  weights: z.string().optional(),
  backend: z.enum(BACKENDS, { error: `--backend must be one of ${BACKENDS.join(', ')}` }).default('auto'),
  optimizer: z.enum(['lbfgs', 'adam'], { error: '--optimizer must be lbfgs or adam' }).default('lbfgs'),
  learningRate: num('learning-rate', 0).optional(),
  init: z.enum(['content', 'noise'], { error: '--init must be content or noise' }).default('content'),
  pooling: z.enum(['avg', 'max'], { error: '--pooling must be avg or max' }).default('avg'),
  styleScale: num('style-scale', 0.05).max(4, '--style-scale must be at most 4').default(1),
  scales: int('scales', 1, 6).optional(),
  preserveColors: z.boolean().default(false),
  seed: int('seed', 0, 2 ** 31 - 1).default(0),
  json: z.boolean().default(false),
  /** Undefined: every DEFAULT_PRINT_EVERY iterations where stderr is not a terminal (no progress bar there). */
  printEvery: int('print-every', 0, 100_000).optional(),
  saveEvery: int('save-every', 1, 100_000).optional(),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

/**
 * `raw` as commander gives it; what it leaves out takes the operator's `defaults` (STYLIZE_SIZE and the rest).
 * The strength stays undefined unless given: a preset's recommended strength comes before the operator's.
 */
export function parseRunOptions(
  raw: Record<string, unknown>,
  defaults: Pick<RunOptions, 'size' | 'iterations' | 'layers'>,
): RunOptions {
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const { size, iterations, layers } = defaults;
  const parsed = runOptionsSchema.safeParse({ size, iterations, layers, ...given });
  if (!parsed.success) throw new Error(parsed.error.issues[0]!.message);
  return parsed.data;
}
