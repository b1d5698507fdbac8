import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createEvaluator,
  type Evaluator,
  LAYER_SETS,
  type Progress,
  type RgbImage,
  resize,
  stylize,
  weightsFromStrength,
} from '../engine/index.ts';
import { finalObjective } from '../engine/stylize.ts';
import { decodeImage } from '../lib/images/index.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';

const layers = { style: [...LAYER_SETS.shallow.style], content: [...LAYER_SETS.shallow.content] };
let content: RgbImage;
let style: RgbImage;
let evaluator: Evaluator;
/** TensorFlow.js on WASM: its tensors are counted by tf.memory(), so leaks are visible. */
let tfjs: Evaluator;

beforeAll(async () => {
  content = await decodeImage(await readFile(asset('content/tubingen.jpg')), { maxSide: 64 });
  style = await decodeImage(await readFile(asset('styles/starry_night.jpg')), { maxSide: 64 });
  evaluator = await createEvaluator({ backend: 'auto', weights: SHALLOW_WEIGHTS, layers });
  tfjs = await createEvaluator({ backend: 'wasm', weights: SHALLOW_WEIGHTS, layers });
});

const request = (iterations: number) => ({
  content,
  styles: [{ image: style }],
  size: 64,
  iterations,
  layers,
  weights: weightsFromStrength(50, layers),
});

describe('stylize with the real shallow VGG-19 weights at 64 px', () => {
  it('takes most of the style loss away while the content stays recognisable', async () => {
    const progress: Progress[] = [];
    const result = await stylize(evaluator, request(40), {
      onProgress: (p) => progress.push(p),
      progressEvery: { iterations: 1, ms: 0 },
    });
    const first = progress[0]!;
    expect(result.iterations).toBe(40);
    expect(result.image.width).toBe(64);
    expect(result.parts.style).toBeLessThan(0.3 * first.parts.style);
    // Starting from the photo, the content error is 0; it may grow, but must stay well below that of an
    // unrelated picture (the painting itself, at the result's size).
    const judge = await finalObjective(evaluator, request(40));
    const unrelated = await judge.evaluate(resize(style, result.image.width, result.image.height).data);
    judge.dispose();
    expect(result.parts.content).toBeLessThan(0.6 * unrelated.parts.content);
    // The result moved away from the photo towards the painting's colours, and is not noise: it still
    // correlates strongly with the photo's luminance.
    expect(correlation(luma(result.image), luma(content))).toBeGreaterThan(0.6);
    expect(meanAbsDiff(result.image, content)).toBeGreaterThan(10);
    const last = progress.at(-1)!;
    expect(last.iteration).toBe(40);
    expect(last.etaMs).toBe(0);
    expect(last.preview.width).toBe(64);
  });

  it('ends each scale once its loss has stopped falling, and says so in the last report', async () => {
    const progress: Progress[] = [];
    const stop = { tolerance: 0.01, window: 10 };
    const result = await stylize(
      evaluator,
      { ...request(400), scales: 2, stop },
      { onProgress: (p) => progress.push(p), progressEvery: { iterations: 1, ms: 0 } },
    );
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(400);
    expect(progress).toHaveLength(result.iterations);
    // The coarse scale stopped before its half of the ceiling, and the fine one went on from there.
    const coarse = progress.filter((p) => p.scale === 1);
    expect(coarse.length).toBeGreaterThan(stop.window);
    expect(coarse.length).toBeLessThan(200);
    expect(coarse.every((p) => !p.converged)).toBe(true);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ scale: 2, converged: true, etaMs: 0, iteration: result.iterations });
    expect(progress.slice(0, -1).every((p) => !p.converged && p.etaMs > 0)).toBe(true);
    // Stopped where the relative decrease over the window fell below the tolerance, and not before.
    const fine = progress.filter((p) => p.scale === 2).map((p) => p.loss);
    const [before, now] = [fine.at(-1 - stop.window)!, fine.at(-1)!];
    expect(before - now).toBeLessThanOrEqual(stop.tolerance * before);
    const [earlier, then] = [fine.at(-2 - stop.window)!, fine.at(-2)!];
    expect(earlier - then).toBeGreaterThan(stop.tolerance * earlier);
  });

  it('continues a smaller painting at the final scale only, with that scale’s share of the ceiling', async () => {
    const smaller = await stylize(evaluator, { ...request(30), size: 32, stop: false });
    expect(smaller.image.width).toBe(32);
    const progress: Progress[] = [];
    const continued = await stylize(
      evaluator,
      { ...request(42), scales: 2, stop: false, start: smaller.image },
      { onProgress: (p) => progress.push(p), progressEvery: { iterations: 1, ms: 0 } },
    );
    // From scratch the fine schedule gives 42 iterations as 2 at 32 px and 40 at 64 px: only the 40 run.
    expect(continued.iterations).toBe(40);
    expect(continued.image.width).toBe(64);
    expect(progress.every((p) => p.scales === 1 && p.width === 64 && p.iterations === 40)).toBe(true);
    // It starts where the smaller painting left off: its first step is well ahead of one from the photo.
    const fromPhoto: Progress[] = [];
    await stylize(
      evaluator,
      { ...request(1), stop: false },
      { onProgress: (p) => fromPhoto.push(p), progressEvery: { iterations: 1, ms: 0 } },
    );
    expect(progress[0]!.parts.style).toBeLessThan(0.5 * fromPhoto[0]!.parts.style);
  });

  it('runs every iteration of the ceiling with the stop off, the image kept within 0-255', async () => {
    let outOfRange = 0;
    const watching = watched(evaluator, (x) => {
      outOfRange += x.filter((v) => v < 0 || v > 255).length;
    });
    const result = await stylize(watching, { ...request(60), stop: { tolerance: 0.5, window: 2 } });
    expect(result.iterations).toBeLessThan(60); // so loose a stop fires early…
    const full = await stylize(watching, { ...request(60), stop: false });
    expect(full.iterations).toBe(60); // …and without one every iteration runs
    expect(full.converged).toBe(false);
    expect(outOfRange).toBe(0);
  });

  it('keeps memory flat across jobs (no tensor outlives a job)', async () => {
    await stylize(tfjs, request(3));
    const tensors = tf.memory().numTensors;
    expect(tensors).toBeGreaterThan(0); // the network's weights: the count really is of this evaluator
    for (let i = 0; i < 3; i++) {
      await stylize(tfjs, request(3));
      expect(tf.memory().numTensors).toBe(tensors);
    }
  });

  it('stops within one iteration of cancellation', async () => {
    const controller = new AbortController();
    let evaluations = 0;
    const counting = watched(tfjs, () => {
      evaluations++;
    });
    const tensors = tf.memory().numTensors;
    const run = stylize(counting, request(50), {
      signal: controller.signal,
      progressEvery: { iterations: 1 },
      onProgress: (p) => {
        if (p.iteration === 3) controller.abort(new Error('cancelled by test'));
      },
    });
    await expect(run).rejects.toThrow('cancelled by test');
    expect(evaluations).toBe(3);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

/** `evaluator`, with `seen` told of every image evaluated. */
function watched(evaluator: Evaluator, seen: (image: Float32Array) => void): Evaluator {
  return {
    backend: evaluator.backend,
    device: evaluator.device,
    targets: (image, l) => evaluator.targets(image, l),
    objective: async (w, h, terms) => {
      const objective = await evaluator.objective(w, h, terms);
      return {
        evaluate: (x) => {
          seen(x);
          return objective.evaluate(x);
        },
        dispose: () => objective.dispose(),
      };
    },
    dispose: () => {},
  };
}

function luma(image: RgbImage): Float64Array {
  const out = new Float64Array(image.width * image.height);
  for (let i = 0; i < out.length; i++) {
    out[i] = 0.299 * image.data[3 * i]! + 0.587 * image.data[3 * i + 1]! + 0.114 * image.data[3 * i + 2]!;
  }
  return out;
}

function correlation(a: Float64Array, b: Float64Array): number {
  const mean = (v: Float64Array) => v.reduce((s, x) => s + x, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}
