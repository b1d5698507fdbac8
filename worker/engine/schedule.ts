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

/** Measured with `npm run bench -- --quality` (README, "Time to a finished painting"). */
export const DEFAULT_STOP: ConvergenceStop = { tolerance: 0.01, window: 20 };

/**
 * How the iteration ceiling is shared among the scales: `even` the same number at each, `coarse` the same
 * compute at each (a step at half the size costs about a quarter, so most steps go to the coarse scales),
 * `converge` each scale but the last may run until it converges, with three quarters of what is left,
 * `fine` each coarser scale a tenth of what the final one gets (a short start, then the final size).
 */
export const SCHEDULES = ['even', 'coarse', 'converge', 'fine'] as const;
export type Schedule = (typeof SCHEDULES)[number];
export const DEFAULT_SCHEDULE: Schedule = 'even';

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
    if (schedule === 'converge') return i === 0 ? 3 : 1 / last;
    if (schedule === 'fine') return i === last ? 1 : 0.1;
    return 1;
  });
  if (pixels.length <= 1) return pixels.map(() => total);
  const sum = shares.reduce((a, b) => a + b, 0);
  const plan = shares.map((share) => Math.floor((total * share) / sum));
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
