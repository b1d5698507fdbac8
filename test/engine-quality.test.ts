import { describe, expect, it } from 'vitest';
import { qualityBench } from '../bench/quality.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';

// The quality bench (`npm run bench -- --quality`) at a small size: it runs end to end on the real shallow
// weights, its loss falls with more evaluations, and the convergence stop fires before the ceiling. Times
// are printed by the bench, never asserted.
describe('quality bench', () => {
  it('measures a falling loss and a convergence stop at 64 px', async () => {
    const [result] = await qualityBench({
      size: 64,
      weights: SHALLOW_WEIGHTS,
      layers: 'shallow',
      pairs: [{ content: 'tubingen', style: 'starry_night' }],
      evaluations: [5, 30, 200],
    });
    expect(result).toBeDefined();
    const { lossAfter, stopped, before } = result!;
    expect(lossAfter[30]).toBeLessThan(lossAfter[5]!);
    expect(lossAfter[200]).toBeLessThan(lossAfter[30]!);
    expect(stopped.converged).toBe(true);
    expect(stopped.evaluations).toBeLessThan(200);
    expect(stopped.loss).toBeLessThan(lossAfter[30]!);
    expect(before.evaluations).toBe(200);
    expect(Object.keys(result!.secondsAfter)).toEqual(['5', '30', '200']);
  });
});
