import { describe, expect, it } from 'vitest';
import { hasConverged, planIterations, SCHEDULES, scaleSizes } from '../engine/schedule.ts';

describe('the schedule of the coarse-to-fine scales', () => {
  const pixels = [96 * 128, 192 * 256, 384 * 512];

  it('doubles the side at each scale, as many scales as the size allows', () => {
    expect(scaleSizes(128)).toEqual([128]);
    expect(scaleSizes(256)).toEqual([128, 256]);
    expect(scaleSizes(512)).toEqual([128, 256, 512]);
    expect(scaleSizes(384, 1)).toEqual([384]);
  });

  it('shares every iteration of the ceiling among the scales, by each schedule', () => {
    for (const schedule of SCHEDULES) {
      for (const total of [0, 1, 7, 300, 301]) {
        const plan = planIterations(schedule, total, pixels);
        expect(plan).toHaveLength(3);
        expect(plan.reduce((a, b) => a + b, 0)).toBe(total);
        expect(plan.every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
      }
      expect(planIterations(schedule, 50, [pixels[2]!])).toEqual([50]);
    }
    expect(planIterations('even', 300, pixels)).toEqual([100, 100, 100]);
    expect(planIterations('even', 301, pixels.slice(1))).toEqual([151, 150]);
    // The same compute at each scale: a scale with a quarter of the pixels gets four times the steps.
    expect(planIterations('coarse', 210, pixels)).toEqual([160, 40, 10]);
    expect(planIterations('converge', 400, pixels.slice(1))).toEqual([300, 100]);
    expect(planIterations('fine', 220, pixels)).toEqual([10, 10, 200]);
  });

  it('sees convergence when the loss fell by less than the tolerance over the window, not before', () => {
    const stop = { tolerance: 0.01, window: 3 };
    expect(hasConverged([1, 1, 1], stop)).toBe(false); // fewer than window + 1 losses: too early to tell
    expect(hasConverged([2, 1, 0.995, 0.992, 0.991], stop)).toBe(true); // 0.9% over the last 3
    expect(hasConverged([2, 1.5, 1.2, 1.1, 1.0], stop)).toBe(false);
    expect(hasConverged([1.0, 0.5, 0.5, 0.5], { tolerance: 0, window: 2 })).toBe(true);
  });
});
