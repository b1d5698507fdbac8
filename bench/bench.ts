/**
 * Iteration speed of each compute backend: `npm run bench -- [--sizes 128,256] [--backends onnx,wasm]
 * [--layers paper|shallow] [--weights random|DIR] [--iterations N] [--json]`.
 *
 * For every backend and size it prints one JSON line: the median ms per L-BFGS iteration from the content
 * image (after warm-up evaluations), split into the iteration's own evaluation (`stepEvaluateMs`) and the
 * optimiser's share (`optimizerMs`); the loss reached; the analytic convolution GFLOP/s; and, measured alone
 * between rounds of iterations, the loss graph (`evaluateMs`) and the "bare graph" (`bareMs`: forward + backward
 * through the same network with only a content term at the deepest layer), each in steady state (run twice
 * in a row, the second timed). `overhead` = msPerIteration / bareMs (loss terms and optimiser),
 * `graphOverhead` = evaluateMs / bareMs (the loss terms alone). Images: the shared photos
 * (tubingen, starry night) cropped square when present, else seeded noise; `--images photos|random`.
 *
 * `--quality` measures instead the loss reached against the time taken: see quality.ts.
 *
 * `--preset-cache` measures instead what the style-target cache saves a preset job (default sizes 256,512): the
 * driver's style target time summed over the scales, cold (computed and stored), warm from disk (a new cache,
 * as after a worker restart) and warm from memory.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { RgbImage } from '../worker/engine/image.ts';
import {
  type Backend,
  createEvaluator,
  type Evaluator,
  LAYER_SETS,
  type Objective,
  rgbImage,
} from '../worker/engine/index.ts';
import { type LossTerms, lossTerms, weightsFromStrength } from '../worker/engine/losses.ts';
import { createOptimizer } from '../worker/engine/optimizers.ts';
import { mulberry32 } from '../worker/engine/random.ts';
import { stylize } from '../worker/engine/stylize.ts';
import { pixelsSha256, TargetsCache, weightsFingerprint } from '../worker/engine/targets-cache.ts';
import {
  deepestLayer,
  type LayerSet,
  type LayerSetName,
  loadVggWeights,
  networkUpTo,
  randomVggWeights,
  type VggWeights,
} from '../worker/engine/vgg.ts';

if (process.argv.includes('--quality')) {
  await (await import('./quality.ts')).main(process.argv.slice(2));
  process.exit();
}

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    'preset-cache': { type: 'boolean', default: false },
    backends: { type: 'string' },
    layers: { type: 'string', default: 'paper' },
    weights: { type: 'string', default: 'random' },
    iterations: { type: 'string' },
    images: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

/** Tried when --backends is not given; absent ones are skipped. The plain-JS `cpu` backend only on request. */
const DEFAULT_BACKENDS: Backend[] = ['onnx', 'tensorflow-gpu', 'tensorflow', 'wasm'];
/** Iterations when --iterations is not given: the slow backends get the fewest that still time 5. */
const defaultIterations = (backend: Backend) => (backend === 'wasm' || backend === 'cpu' ? 8 : 60);
/** Iterations between two timings of the graphs alone; the first of them is not timed. */
const STEPS_PER_ROUND = 3;
const WARM_UP = 2;
const SHARED = new URL('../../shared/assets/', import.meta.url);

const log = (line: string) => {
  if (!args.json) process.stderr.write(`${line}\n`);
};

const sizes = (args.sizes ?? (args['preset-cache'] ? '256,512' : '128,256')).split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 16) throw new Error(`--sizes: "${s}" is not a size of at least 16 px`);
  return n;
});
if (!(args.layers in LAYER_SETS)) throw new Error(`--layers must be ${Object.keys(LAYER_SETS).join(' or ')}`);
const layerSet = LAYER_SETS[args.layers as LayerSetName];
const layers: LayerSet = { style: [...layerSet.style], content: [...layerSet.content] };
const deepest = deepestLayer([...layers.style, ...layers.content]);
const weights: VggWeights =
  args.weights === 'random' ? randomVggWeights(deepest, 1, 1) : await loadVggWeights(args.weights, deepest);
const requested = args.backends?.split(',') as Backend[] | undefined;
const backends = requested ?? DEFAULT_BACKENDS;
const photos = args.images ? args.images === 'photos' : existsSync(new URL('content/tubingen.jpg', SHARED));

log(
  `bench: layers ${args.layers}, weights ${args.weights}, ${photos ? 'tubingen + starry night' : 'random images'}, ` +
    `sizes ${sizes.join(', ')}, backends ${backends.join(', ')}`,
);

if (args['preset-cache']) await benchPresetCache();
else await benchIterations();

async function benchPresetCache(): Promise<void> {
  const fingerprint = await weightsFingerprint(weights);
  for (const backend of backends) {
    let evaluator: Evaluator;
    try {
      evaluator = await createEvaluator({ backend, weights, layers });
    } catch (error) {
      log(
        `${backend}: not available (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      );
      continue;
    }
    try {
      for (const size of sizes) {
        const [content, style] = photos
          ? await Promise.all([photo('content/tubingen.jpg', size), photo('styles/starry_night.jpg', size)])
          : [noise(size, 1), noise(size, 2)];
        const dir = await mkdtemp(join(tmpdir(), 'bench-targets-'));
        const cacheKey = `preset:starry_night:${pixelsSha256(style.data)}`;
        // Targets and objectives only: no iterations.
        const run = async (cache: TargetsCache) => {
          let ms = 0;
          await stylize(
            evaluator,
            {
              content,
              styles: [{ image: style, cacheKey }],
              size,
              iterations: 0,
              layers,
              weights: weightsFromStrength(50),
            },
            { targetsCache: cache, onStyleTargets: (e) => (ms += e.ms) },
          );
          return round(ms);
        };
        try {
          const cache = new TargetsCache({ fingerprint, dir });
          const coldMs = await run(cache);
          const warmDiskMs = await run(new TargetsCache({ fingerprint, dir }));
          const warmMemoryMs = await run(cache);
          const line = {
            bench: 'preset-cache',
            backend: evaluator.backend,
            size,
            layers: args.layers,
            coldMs,
            warmDiskMs,
            warmMemoryMs,
          };
          console.log(JSON.stringify(line));
          log(
            `  ${line.backend} ${size}px: style targets ${coldMs} ms cold, ${warmDiskMs} ms from disk, ${warmMemoryMs} ms from memory`,
          );
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    } finally {
      evaluator.dispose();
    }
  }
}

async function benchIterations(): Promise<void> {
  for (const backend of backends) {
    for (const size of sizes) {
      let evaluator: Evaluator;
      const setupStart = performance.now();
      try {
        evaluator = await createEvaluator({ backend, weights, layers });
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        if (requested) console.log(JSON.stringify({ backend, size, skipped: reason }));
        else log(`${backend}: not available (${reason})`);
        break;
      }
      const createMs = performance.now() - setupStart;
      try {
        const iterations = args.iterations ? Number(args.iterations) : defaultIterations(backend);
        const result = await measure(evaluator, size, iterations);
        const line = {
          backend: evaluator.backend,
          size,
          layers: args.layers,
          weights: args.weights === 'random' ? 'random' : 'real',
          ...result,
          // Evaluator (graph building, session creation) plus targets and objective for this size.
          setupMs: round(createMs + result.setupMs),
        };
        console.log(JSON.stringify(line));
        log(
          `  ${line.backend} ${size}px: ${line.msPerIteration} ms/iteration (${line.optimizerMs} ms in the optimiser); ` +
            `loss graph ${line.evaluateMs} ms, bare graph ${line.bareMs} ms: ×${line.overhead} per iteration, ` +
            `×${line.graphOverhead} per evaluation; ` +
            `${line.gflops} GFLOP/s, loss ${line.loss.toPrecision(4)} after ${line.iterations} iterations`,
        );
      } finally {
        evaluator.dispose();
      }
    }
  }
}

async function measure(evaluator: Evaluator, size: number, iterations: number) {
  const start = performance.now();
  const [content, style] = photos
    ? await Promise.all([photo('content/tubingen.jpg', size), photo('styles/starry_night.jpg', size)])
    : [noise(size, 1), noise(size, 2)];
  const contentTargets = await evaluator.targets(content, { content: layers.content, style: [] });
  const styleTargets = await evaluator.targets(style, { content: [], style: layers.style });
  const terms = lossTerms(
    { content: contentTargets.content, style: styleTargets.style },
    weightsFromStrength(50),
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
  const flops = convFlops(size, size);
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
function convFlops(width: number, height: number): number {
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

async function photo(path: string, size: number): Promise<RgbImage> {
  const raw = await sharp(new URL(path, SHARED).pathname)
    .resize(size, size, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return rgbImage(size, size, Float32Array.from(raw));
}

function noise(size: number, seed: number): RgbImage {
  const random = mulberry32(seed);
  return rgbImage(
    size,
    size,
    Float32Array.from({ length: size * size * 3 }, () => 255 * random()),
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(value: number): number {
  return Number(value.toFixed(1));
}
