/**
 * How the driver spends its iterations: the coarse-to-fine scales, how the iteration ceiling is shared among
 * them, and when a scale has converged. Pure arithmetic on numbers, so the bench and the tests can use it alone.
 */

/**
 * A scale has converged when its loss fell by less than `tolerance` (a fraction of the loss) over its last
 * `window` iterations; it then ends, and what it left of its iterations goes to the next scales.
 */
export interface ConvergenceStop {
  tolerance: number;
  window: number;
}

/**
 * Measured on the loss curves of a default job at 384 px (Tübingen × The Starry Night, strength 50) run with every
 * iteration of a 300 and a 500 ceiling, on the real VGG-19 (docs/paper-network.md): 0.75% over 20 iterations
 * stops after 149 iterations on the paper layers, 3.2% above the 500-iteration loss, and after 133 on the
 * shallow ones, 1.9% above, each in under half the compute of the 300-iteration run. 2% stopped after 98 and 95,
 * 5.9% and 3.6% above; 0.5% after 173 and 151, 2.5% and 1.4% above, past half the compute on the paper layers.
 */
export const DEFAULT_STOP: ConvergenceStop = { tolerance: 0.0075, window: 20 };

/**
 * How the iteration ceiling is shared among the scales: `even` the same number at each, `coarse` the same
 * compute at each (a step at half the size has a quarter of the pixels, so most steps go to the coarse scales),
 * `converge` each scale but the last may run until it converges, with three quarters of what is left,
 * `fine` each coarser scale a twentieth of what the final one gets (a short start, then the final size).
 */
export const SCHEDULES = ['even', 'coarse', 'converge', 'fine'] as const;
export type Schedule = (typeof SCHEDULES)[number];
/**
 * Measured (`npm run bench -- --quality --schedules`, Tübingen × The Starry Night, 256 px): `fine` reached a loss
 * of 0.849 at the final size with the compute of 96 final-size evaluations, `even` 0.843 only with 125 and
 * `coarse` 0.871 with 120. Coarse iterations speed the start, but the final size's texture is made there.
 */
export const DEFAULT_SCHEDULE: Schedule = 'fine';

/** Smallest side worth optimising at: below this VGG's deeper layers see only a few pixels. */
const MIN_SCALE_SIDE = 100;

/** Output sizes from coarse to fine, each twice the previous: 128 → [128], 256 → [128, 256], 512 → three. */
export function scaleSizes(size: number, scales?: number): number[] {
  const count = scales ?? 1 + Math.max(0, Math.floor(Math.log2(size / MIN_SCALE_SIDE)));
  return Array.from({ length: count }, (_, i) => Math.round(size / 2 ** (count - 1 - i)));
}

/**
 * The iterations each of the scales still to run gets from `total`, by `schedule`; `pixels` are those
 * scales' pixel counts, coarse to fine. Whole numbers summing to `total`, the remainder to the first scales.
 */
export function planIterations(schedule: Schedule, total: number, pixels: readonly number[]): number[] {
  const last = pixels.length - 1;
  const shares = pixels.map((p, i) => {
    if (schedule === 'coarse') return 1 / p;
    if (schedule === 'converge') return i === 0 ? 3 * last : 1;
    if (schedule === 'fine') return i === last ? 20 : 1;
    return 1;
  });
  if (pixels.length <= 1) return pixels.map(() => total);
  const sum = shares.reduce((a, b) => a + b, 0);
  // The tolerance keeps a share that is exactly a whole number from rounding down.
  const plan = shares.map((share) => Math.floor((total * share) / sum + 1e-9));
  for (let i = 0, left = total - plan.reduce((a, b) => a + b, 0); left > 0; i++, left--) plan[i]!++;
  return plan;
}

/** The loss fell by less than `tolerance` of itself over the last `window` iterations. */
export function hasConverged(losses: readonly number[], stop: ConvergenceStop): boolean {
  if (losses.length <= stop.window) return false;
  const before = losses[losses.length - 1 - stop.window]!;
  const now = losses[losses.length - 1]!;
  return before - now <= stop.tolerance * Math.abs(before);
}
