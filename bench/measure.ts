/**
 * The measurements `npm run bench` and `npm run gpu-check` share. Nothing here reads files or decodes images,
 * so the GPU check bundles into one script.
 */
import type { Evaluator, Objective } from '../engine/evaluator.ts';
import { type RgbImage, rgbImage } from '../engine/image.ts';
import { type LossTerms, lossTerms, weightsFromStrength } from '../engine/losses.ts';
import { createOptimizer } from '../engine/optimizers.ts';
import { mulberry32 } from '../engine/random.ts';
import { deepestLayer, type LayerSet, networkUpTo, type VggWeights } from '../engine/vgg.ts';

/** Iterations between two timings of the graphs alone; the first of them is not timed. */
const STEPS_PER_ROUND = 3;
const WARM_UP = 2;

export interface IterationsBench {
  /** Square images of the benchmark's size. */
  content: RgbImage;
  style: RgbImage;
  layers: LayerSet;
  weights: VggWeights;
  iterations: number;
}

/**
 * Median ms per L-BFGS iteration from the content image (after warm-up evaluations), split into the
 * iteration's own evaluation (`stepEvaluateMs`) and the optimiser's share (`optimizerMs`); the loss reached;
 * the analytic convolution GFLOP/s; and, measured alone between rounds of iterations, the loss graph
 * (`evaluateMs`) and the "bare graph" (`bareMs`: forward + backward through the same network with only a
 * content term at the deepest layer), each in steady state (run twice in a row, the second timed).
 */
export async function measureIterations(
  evaluator: Evaluator,
  { content, style, layers, weights, iterations }: IterationsBench,
) {
  const start = performance.now();
  const size = content.width;
  const deepest = deepestLayer([...layers.style, ...layers.content]);
  const contentTargets = await evaluator.targets(content, { content: layers.content, style: [] });
  const styleTargets = await evaluator.targets(style, { content: [], style: layers.style });
  const terms = lossTerms(
    { content: contentTargets.content, style: styleTargets.style },
    weightsFromStrength(50, layers),
  );
  const objective = await evaluator.objective(size, size, terms);
  // Bare graph: the same network forward and backward, with one content term at the deepest layer.
  const deepTarget = await evaluator.targets(content, { content: [deepest], style: [] });
  const bareTerms: LossTerms = {
    content: [{ layer: deepest, target: deepTarget.content.get(deepest)!, weight: 1 }],
    style: [],
    tv: 0,
  };
  const bare = await evaluator.objective(size, size, bareTerms);
  const setupMs = performance.now() - start;
  const times: number[] = [];
  const optimizerTimes: number[] = [];
  const stepEvaluateTimes: number[] = [];
  const evaluateTimes: number[] = [];
  const bareTimes: number[] = [];
  /** Runs `objective` on the content image `runs` times in a row and records the last run's time. */
  const time = async (objective: Objective, into: number[], runs: number) => {
    for (let i = 1; i < runs; i++) await objective.evaluate(content.data);
    const t = performance.now();
    await objective.evaluate(content.data);
    into.push(performance.now() - t);
  };
  let loss = Number.NaN;
  try {
    // Warm-up: the first runs grow the runtime's memory arena and pick kernels.
    for (let i = 0; i < WARM_UP; i++) {
      await objective.evaluate(content.data);
      await bare.evaluate(content.data);
    }
    let inStep = 0;
    const timed: Objective = {
      evaluate: async (x) => {
        const t = performance.now();
        const result = await objective.evaluate(x);
        inStep = performance.now() - t;
        return result;
      },
      dispose: () => objective.dispose(),
    };
    const optimizer = await createOptimizer('lbfgs', timed, content.data);
    for (let done = 0; done < iterations; ) {
      // Each round times the loss graph and the bare graph alone (each on its second run in a row: steady
      // state), then iterations: all samples of a round see the same machine, whose speed on shared cores
      // drifts by several per cent within a minute.
      await time(objective, evaluateTimes, 2);
      await time(bare, bareTimes, 2);
      for (let i = 0; i < STEPS_PER_ROUND && done < iterations; i++, done++) {
        const t = performance.now();
        loss = (await optimizer.step()).loss;
        // The first iteration after the graphs alone starts with another session's data in the caches,
        // which no iteration of a real job does: it is not timed.
        if (i === 0) continue;
        times.push(performance.now() - t);
        optimizerTimes.push(times.at(-1)! - inStep);
        stepEvaluateTimes.push(inStep);
      }
    }
  } finally {
    objective.dispose();
    bare.dispose();
  }

  const msPerIteration = median(times);
  const evaluateMs = median(evaluateTimes);
  const bareMs = median(bareTimes);
  const flops = convFlops(weights, deepest, size, size);
  return {
    iterations,
    msPerIteration: round(msPerIteration),
    optimizerMs: round(median(optimizerTimes)),
    stepEvaluateMs: round(median(stepEvaluateTimes)),
    evaluateMs: round(evaluateMs),
    bareMs: round(bareMs),
    overhead: Number((msPerIteration / bareMs).toFixed(3)),
    graphOverhead: Number((evaluateMs / bareMs).toFixed(3)),
    gflop: Number((flops / 1e9).toFixed(2)),
    gflops: round(flops / 1e6 / msPerIteration),
    loss,
    setupMs,
  };
}

/**
 * Convolution FLOPs of one evaluation: forward 2·h·w·9·Cin·Cout per layer, and the same again for the
 * input gradient in the backward pass (weight gradients are never needed).
 */

/**
 * Relative errors of `evaluator` against `reference` (the CPU provider) on one random image: |Δloss|/|loss|
 * and ‖Δgradient‖/‖gradient‖, with both given the reference's targets.
 */
export async function crossCheck(
  evaluator: Evaluator,
  reference: Evaluator,
  { content, style, layers }: Pick<IterationsBench, 'content' | 'style' | 'layers'>,
): Promise<{ loss: number; gradient: number }> {
  const targets = {
    content: (await reference.targets(content, { content: layers.content, style: [] })).content,
    style: (await reference.targets(style, { content: [], style: layers.style })).style,
  };
  const terms = lossTerms(targets, weightsFromStrength(50, layers));
  const { width, height } = content;
  const x = noise(width, 3, height).data;
  const evaluate = async (e: Evaluator) => {
    const objective = await e.objective(width, height, terms);
    try {
      return await objective.evaluate(x);
    } finally {
      objective.dispose();
    }
  };
  const want = await evaluate(reference);
  const got = await evaluate(evaluator);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.gradient.length; i++) {
    num += (got.gradient[i]! - want.gradient[i]!) ** 2;
    den += want.gradient[i]! ** 2;
  }
  return {
    loss: Number((Math.abs(got.loss - want.loss) / Math.abs(want.loss)).toExponential(2)),
    gradient: Number(Math.sqrt(num / den).toExponential(2)),
  };
}

/**
 * Convolution FLOPs of one evaluation: forward 2·h·w·9·Cin·Cout per layer, and the same again for the
 * input gradient in the backward pass (weight gradients are never needed).
 */
export function convFlops(weights: VggWeights, deepest: string, width: number, height: number): number {
  let [w, h] = [width, height];
  let flops = 0;
  for (const op of networkUpTo(deepest)) {
    if (op.kind === 'pool') {
      [w, h] = [Math.floor(w / 2), Math.floor(h / 2)];
      continue;
    }
    const { inChannels, outChannels } = weights.get(op.layer)!;
    flops += 2 * (2 * h * w * 9 * inChannels * outChannels);
  }
  return flops;
}

/** Seeded noise in 0-255, `width` x `height` (square by default). */
export function noise(width: number, seed: number, height = width): RgbImage {
  const random = mulberry32(seed);
  return rgbImage(
    width,
    height,
    Float32Array.from({ length: width * height * 3 }, () => 255 * random()),
  );
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number): number {
  return Number(value.toFixed(1));
}
