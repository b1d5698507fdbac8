import { describe, expect, it } from 'vitest';
import type { Evaluation, Objective } from '../engine/evaluator.ts';
import { CurvaturePairs, createOptimizer } from '../engine/optimizers.ts';
import { mulberry32 } from '../engine/random.ts';
import { VectorMemory } from '../engine/vectors.ts';

/** f(x) = ½ Σ aᵢ(xᵢ − cᵢ)², curvatures aᵢ spread over four orders of magnitude: ill-conditioned on purpose. */
function quadratic(n: number, seed: number) {
  const random = mulberry32(seed);
  const a = Float64Array.from({ length: n }, () => 10 ** (4 * random()));
  const c = Float64Array.from({ length: n }, () => 255 * random());
  const gradient = (x: Float32Array) => Float32Array.from(x, (v, i) => a[i]! * (v - c[i]!));
  const loss = (x: Float32Array) => x.reduce((sum, v, i) => sum + 0.5 * a[i]! * (v - c[i]!) ** 2, 0);
  let evaluations = 0;
  const objective: Objective = {
    evaluate: async (x): Promise<Evaluation> => {
      evaluations++;
      const value = loss(x);
      return { loss: value, parts: { content: value, style: 0, tv: 0 }, gradient: gradient(x) };
    },
    dispose: () => {},
  };
  return { objective, gradient, loss, evaluations: () => evaluations };
}

/** −H·g by the textbook two-loop recursion (Nocedal & Wright, algorithm 7.4), in float64. */
function twoLoop(pairs: { s: Float32Array; y: Float32Array }[], g: Float32Array): Float64Array {
  const dot = (u: ArrayLike<number>, v: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < u.length; i++) sum += u[i]! * v[i]!;
    return sum;
  };
  const q = Float64Array.from(g);
  const alpha: number[] = [];
  for (let i = pairs.length - 1; i >= 0; i--) {
    const { s, y } = pairs[i]!;
    alpha[i] = dot(s, q) / dot(s, y);
    for (let j = 0; j < q.length; j++) q[j] = q[j]! - alpha[i]! * y[j]!;
  }
  const newest = pairs.at(-1)!;
  const gamma = dot(newest.s, newest.y) / dot(newest.y, newest.y);
  for (let j = 0; j < q.length; j++) q[j] = q[j]! * gamma;
  for (let i = 0; i < pairs.length; i++) {
    const { s, y } = pairs[i]!;
    const beta = dot(y, q) / dot(s, y);
    for (let j = 0; j < q.length; j++) q[j] = q[j]! + (alpha[i]! - beta) * s[j]!;
  }
  return q.map((v) => -v);
}

describe('L-BFGS', () => {
  it('computes the same direction as the two-loop recursion, keeping only the newest pairs', async () => {
    // 1001 values: not a multiple of the SIMD width, so the padding is exercised too.
    const n = 1001;
    const history = 4;
    const { gradient } = quadratic(n, 1);
    const random = mulberry32(2);
    // Vectors 0-4 are the caller's (here: x, next, their gradients, the direction), the pairs follow.
    const memory = await VectorMemory.create(n, 5 + 2 * (history + 1));
    const pairs = new CurvaturePairs(history, memory);
    const [X, NEXT, G, G_NEXT, OUT] = [0, 1, 2, 3, 4];
    const kept: { s: Float32Array; y: Float32Array }[] = [];
    let x = Float32Array.from({ length: n }, () => 255 * random());
    let g = gradient(x);
    for (let step = 0; step < 7; step++) {
      const next = Float32Array.from(x, (v) => v + 10 * (random() - 0.5));
      const gNext = gradient(next);
      for (const [i, v] of [x, next, g, gNext].entries()) memory.vector(i).set(v);
      pairs.add(NEXT, X, G_NEXT, G);
      kept.push({
        s: Float32Array.from(next, (v, i) => v - x[i]!),
        y: Float32Array.from(gNext, (v, i) => v - g[i]!),
      });
      if (kept.length > history) kept.shift();
      [x, g] = [next, gNext];

      expect(pairs.size).toBe(kept.length);
      const slope = pairs.descend(G_NEXT, OUT);
      const expected = twoLoop(kept, g);
      const scale = Math.max(...expected.map(Math.abs));
      const worst = Math.max(...memory.vector(OUT).map((v, i) => Math.abs(v - expected[i]!)));
      expect(worst / scale).toBeLessThan(1e-4);
      const expectedSlope = expected.reduce((sum, v, i) => sum + v * g[i]!, 0);
      expect(Math.abs(slope / expectedSlope - 1)).toBeLessThan(1e-4);
      expect(slope).toBeLessThan(0);
    }
  });

  it('skips a pair without positive curvature, which would make the Hessian estimate indefinite', async () => {
    const n = 8;
    const memory = await VectorMemory.create(n, 5 + 2 * 4);
    const pairs = new CurvaturePairs(3, memory);
    const step = Float32Array.from({ length: n }, (_, i) => i + 1);
    // x = 0 → step, the gradient going from 0 to 2·step (s·y > 0): kept.
    memory.vector(1).set(step);
    memory.vector(3).set(step.map((v) => 2 * v));
    pairs.add(1, 0, 3, 2);
    expect(pairs.size).toBe(1);
    // step → 2·step, the gradient going from 2·step back to 0 (s·y < 0): skipped.
    memory.vector(0).set(step.map((v) => 2 * v));
    memory.vector(2).fill(0);
    pairs.add(0, 1, 2, 3);
    expect(pairs.size).toBe(1);
    pairs.clear();
    expect(pairs.size).toBe(0);
  });

  it('reaches the minimum of an ill-conditioned quadratic, one evaluation per step', async () => {
    const n = 999;
    const { objective, loss, evaluations } = quadratic(n, 3);
    const x0 = new Float32Array(n);
    const optimizer = await createOptimizer('lbfgs', objective, x0);
    const initial = loss(x0);
    for (let i = 0; i < 300; i++) await optimizer.step();
    expect(evaluations()).toBe(300);
    expect(loss(optimizer.x)).toBeLessThan(1e-6 * initial);
    // x0 itself is left alone: the optimiser works on its own copy.
    expect(x0.every((v) => v === 0)).toBe(true);
  });

  it('keeps every point it evaluates within the bounds, and reaches the minimum inside them', async () => {
    // A separable quadratic whose unconstrained minimum c lies partly outside 0-255: the minimum within the
    // bounds is c clamped into them.
    const n = 500;
    const random = mulberry32(4);
    const a = Float64Array.from({ length: n }, () => 10 ** (2 * random()));
    const c = Float64Array.from({ length: n }, () => -60 + 380 * random());
    let outside = 0;
    const objective: Objective = {
      evaluate: async (x) => {
        outside += x.filter((v) => v < 0 || v > 255).length;
        const loss = x.reduce((sum, v, i) => sum + 0.5 * a[i]! * (v - c[i]!) ** 2, 0);
        return {
          loss,
          parts: { content: loss, style: 0, tv: 0 },
          gradient: Float32Array.from(x, (v, i) => a[i]! * (v - c[i]!)),
        };
      },
      dispose: () => {},
    };
    const x0 = Float32Array.from({ length: n }, (_, i) => (i % 2 ? 300 : -20)); // out of range at the start too
    for (const name of ['lbfgs', 'adam'] as const) {
      const optimizer = await createOptimizer(name, objective, x0, {
        bounds: { min: 0, max: 255 },
        learningRate: name === 'adam' ? 2 : undefined,
      });
      for (let i = 0; i < 400; i++) await optimizer.step();
      expect(outside).toBe(0);
      const worst = Math.max(...optimizer.x.map((v, i) => Math.abs(v - Math.min(255, Math.max(0, c[i]!)))));
      expect(worst).toBeLessThan(name === 'lbfgs' ? 0.01 : 1);
    }
    // Without bounds the same L-BFGS goes outside them, to c itself.
    const free = await createOptimizer('lbfgs', objective, x0);
    for (let i = 0; i < 200; i++) await free.step();
    expect(outside).toBeGreaterThan(0);
    expect(Math.max(...free.x.map((v, i) => Math.abs(v - c[i]!)))).toBeLessThan(0.01);
  });

  it('refuses more vectors than one WebAssembly memory holds, before allocating anything', async () => {
    const n = 256 * 256 * 3;
    const capacity = VectorMemory.capacity(n);
    expect(capacity).toBe(Math.floor(2 ** 32 / (n * 4)));
    await expect(VectorMemory.create(n, capacity + 1)).rejects.toThrow(RangeError);
  });
});
