/**
 * Speed of each compute backend: `npm run bench -- [--sizes 128,256] [--backends onnx,onnx-webgpu,wasm]
 * [--layers paper|shallow] [--weights random|DIR] [--iterations N] [--json]`.
 *
 * For every backend and size it prints one JSON line (see measure.ts): the median ms per L-BFGS iteration,
 * split into the iteration's own evaluation and the optimiser's share; the loss reached; the analytic
 * convolution GFLOP/s; the loss graph and the "bare graph" (forward + backward with only a content term at the
 * deepest layer) timed alone between rounds of iterations; `overhead` = msPerIteration / bareMs,
 * `graphOverhead` = evaluateMs / bareMs; the device; and, for the GPU providers, `crossCheck`: the relative
 * error of loss and gradient against the CPU provider. Without --backends every backend present is run,
 * except a software WebGPU adapter (seconds per iteration: ask for it with --backends onnx-webgpu).
 * Images: the shared photos (tubingen, starry night) cropped square when present, else seeded noise;
 * `--images photos|random`.
 *
 * `--quality` measures instead the loss reached against the time taken: see quality.ts.
 *
 * `--strength-scale` paints instead each strength with several paintings and judges the results: see strength.ts.
 *
 * `--paper-figure` paints instead the paper's first figure, content and style reconstructions: see paper-figure.ts.
 *
 * `--variation` measures instead a Larger variation's time against the same job from scratch: see variation.ts.
 *
 * `--timelapse` measures instead what a job's timelapse costs in time and memory: see timelapse.ts.
 *
 * `--preset-cache` measures instead what the style-target cache saves a preset job (default sizes 256,512): the
 * driver's style target time summed over the scales, cold (computed and stored), warm from disk (a new cache,
 * as after a worker restart) and warm from memory.
 *
 * `--throughput` measures jobs per minute of whole jobs (Painter, as the worker runs them) for each number of
 * worker processes (`--workers 1,2`) and jobs at once per process (`--concurrency 1,2`): `--jobs N` jobs of
 * `--job-size` px (64) and `--job-iterations` (10) per configuration, `--rounds` (3) times, each process with
 * the CPU threads a worker gets (cpuThreads), or with `--split-threads` those divided again among its
 * concurrent jobs, or `--threads N` each.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { RgbImage } from '../engine/image.ts';
import {
  BACKENDS,
  type Backend,
  type ConcreteBackend,
  chooseBackend,
  createEvaluator,
  type Evaluator,
  LAYER_SETS,
  rgbImage,
} from '../engine/index.ts';
import { weightsFromStrength } from '../engine/losses.ts';
import { stylize } from '../engine/stylize.ts';
import { pixelsSha256, TargetsCache, weightsFingerprint } from '../engine/targets-cache.ts';
import {
  deepestLayer,
  type LayerSet,
  type LayerSetName,
  loadVggWeights,
  randomVggWeights,
  type VggWeights,
} from '../engine/vgg.ts';
import { cpuThreads, Painter } from '../worker/paint.ts';
import { crossCheck, measureIterations, median, noise, round } from './measure.ts';

if (process.argv.includes('--quality')) {
  await (await import('./quality.ts')).main(process.argv.slice(2));
  process.exit();
}
if (process.argv.includes('--strength-scale')) {
  await (await import('./strength.ts')).main(process.argv.slice(2));
  process.exit();
}
if (process.argv.includes('--paper-figure')) {
  await (await import('./paper-figure.ts')).main(process.argv.slice(2));
  process.exit();
}
if (process.argv.includes('--variation')) {
  await (await import('./variation.ts')).main(process.argv.slice(2));
  process.exit();
}
if (process.argv.includes('--timelapse')) {
  await (await import('./timelapse.ts')).main(process.argv.slice(2));
  process.exit();
}

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string' },
    'preset-cache': { type: 'boolean', default: false },
    throughput: { type: 'boolean', default: false },
    'throughput-child': { type: 'boolean', default: false },
    workers: { type: 'string', default: '1,2' },
    concurrency: { type: 'string', default: '1,2' },
    jobs: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '3' },
    'job-size': { type: 'string', default: '64' },
    'job-iterations': { type: 'string', default: '10' },
    'split-threads': { type: 'boolean', default: false },
    threads: { type: 'string' },
    backends: { type: 'string' },
    layers: { type: 'string' },
    weights: { type: 'string' },
    iterations: { type: 'string' },
    images: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

/** Tried when --backends is not given; absent ones are skipped. The plain-JS `cpu` backend only on request. */
const DEFAULT_BACKENDS: ConcreteBackend[] = [
  'onnx',
  'onnx-cuda',
  'onnx-webgpu',
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
];
/** Iterations when --iterations is not given: the slow backends get the fewest that still time 5. */
const defaultIterations = (backend: string, software: boolean) =>
  software || backend === 'wasm' || backend === 'cpu' ? 8 : 60;
const SHARED = new URL('../../shared/assets/', import.meta.url);
const SHALLOW_WEIGHTS = fileURLToPath(new URL('vgg19-conv1-3', SHARED));

const log = (line: string) => {
  if (!args.json) process.stderr.write(`${line}\n`);
};

// Whole jobs default to the real shallow weights where they are (a job as the bot paints it); the
// iteration bench to the paper's layers with random weights.
const jobsBench = args.throughput || args['throughput-child'];
if (args.throughput && args.weights === 'random')
  throw new Error('--throughput paints whole jobs: give --weights DIR');
const layerName = args.layers ?? (jobsBench ? 'shallow' : 'paper');
const weightsArg = args.weights ?? (jobsBench && existsSync(SHALLOW_WEIGHTS) ? SHALLOW_WEIGHTS : 'random');
const sizes = (args.sizes ?? (args['preset-cache'] ? '256,512' : '128,256')).split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 16) throw new Error(`--sizes: "${s}" is not a size of at least 16 px`);
  return n;
});
if (!(layerName in LAYER_SETS)) throw new Error(`--layers must be ${Object.keys(LAYER_SETS).join(' or ')}`);
const layerSet = LAYER_SETS[layerName as LayerSetName];
const layers: LayerSet = { style: [...layerSet.style], content: [...layerSet.content] };
const deepest = deepestLayer([...layers.style, ...layers.content]);
const requested = args.backends?.split(',') as ConcreteBackend[] | undefined;
for (const b of requested ?? []) {
  if (!(BACKENDS as readonly string[]).includes(b))
    throw new Error(`--backends: "${b}" is not one of ${BACKENDS.join(', ')}`);
}
const backends = requested ?? DEFAULT_BACKENDS;
const photos = args.images ? args.images === 'photos' : existsSync(new URL('content/tubingen.jpg', SHARED));

if (args['throughput-child']) await throughputChild();
else if (args.throughput) await benchThroughput();
else {
  const weights: VggWeights =
    weightsArg === 'random' ? randomVggWeights(deepest, 1, 1) : await loadVggWeights(weightsArg, deepest);
  log(
    `bench: layers ${layerName}, weights ${weightsArg}, ${photos ? 'tubingen + starry night' : 'random images'}, ` +
      `sizes ${sizes.join(', ')}, backends ${backends.join(', ')}`,
  );
  if (args['preset-cache']) await benchPresetCache(weights);
  else await benchIterations(weights);
}

async function benchPresetCache(weights: VggWeights): Promise<void> {
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
        const [content, style] = await images(size);
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
              weights: weightsFromStrength(50, layers),
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
            layers: layerName,
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

async function benchIterations(weights: VggWeights): Promise<void> {
  let reference: Evaluator | undefined;
  try {
    for (const backend of backends) {
      let choice: Awaited<ReturnType<typeof chooseBackend>>;
      try {
        choice = await chooseBackend(backend);
      } catch (error) {
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        if (requested) console.log(JSON.stringify({ backend, skipped: reason }));
        else log(`${backend}: not available (${reason})`);
        continue;
      }
      const { software } = choice;
      if (software && !requested) {
        log(`${backend}: ${choice.device}, seconds per iteration: only with --backends ${backend}`);
        continue;
      }
      if (backend !== 'onnx' && backend.startsWith('onnx'))
        reference ??= await createEvaluator({ backend: 'onnx', weights, layers });
      for (const size of sizes) {
        const setupStart = performance.now();
        const evaluator = await createEvaluator({ backend, weights, layers });
        const createMs = performance.now() - setupStart;
        try {
          const [content, style] = await images(size);
          const iterations = args.iterations ? Number(args.iterations) : defaultIterations(backend, software);
          const result = await measureIterations(evaluator, { content, style, layers, weights, iterations });
          const line = {
            backend: evaluator.backend,
            device: evaluator.device,
            size,
            layers: layerName,
            weights: weightsArg === 'random' ? 'random' : 'real',
            ...result,
            // Evaluator (graph building, session creation) plus targets and objective for this size.
            setupMs: round(createMs + result.setupMs),
            ...(reference && backend !== 'onnx'
              ? { crossCheck: await crossCheck(evaluator, reference, { content, style, layers }) }
              : {}),
          };
          console.log(JSON.stringify(line));
          log(
            `  ${line.backend} ${size}px: ${line.msPerIteration} ms/iteration (${line.optimizerMs} ms in the optimiser); ` +
              `loss graph ${line.evaluateMs} ms, bare graph ${line.bareMs} ms: ×${line.overhead} per iteration, ` +
              `×${line.graphOverhead} per evaluation; ` +
              `${line.gflops} GFLOP/s, loss ${line.loss.toPrecision(4)} after ${line.iterations} iterations` +
              (line.crossCheck
                ? `; against the CPU provider: loss ${line.crossCheck.loss}, gradient ${line.crossCheck.gradient}`
                : ''),
          );
        } finally {
          evaluator.dispose();
        }
      }
    }
  } finally {
    reference?.dispose();
  }
}

/**
 * Each workers x concurrency configuration `--rounds` times, the configurations taking turns so that every
 * one sees the same machine (on shared cores its speed drifts by more than the differences measured); each
 * worker process is this script with --throughput-child. One line per configuration: the median jobs/min.
 */
async function benchThroughput(): Promise<void> {
  const jobs = Number(args.jobs);
  const list = (s: string) => s.split(',').map(Number);
  const backend = (requested?.[0] ?? 'onnx') as Backend;
  log(
    `throughput: ${jobs} jobs of ${args['job-size']} px, ${args['job-iterations']} iterations, layers ${layerName}, ` +
      `weights ${weightsArg}, ${backend}${args['split-threads'] ? ', threads split among concurrent jobs' : ''}, ` +
      `${args.rounds} rounds`,
  );
  const configurations = list(args.workers).flatMap((workers) =>
    list(args.concurrency).map((concurrency) => ({
      workers,
      concurrency,
      threads: args.threads
        ? Number(args.threads)
        : Math.max(1, Math.floor(cpuThreads(workers) / (args['split-threads'] ? concurrency : 1))),
      samples: [] as number[],
    })),
  );
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const c of configurations) c.samples.push(await jobsPerMinute(backend, jobs, c));
  }
  const baseline = median(configurations[0]!.samples);
  for (const { workers, concurrency, threads, samples } of configurations) {
    const perMinute = round(median(samples));
    const ratio = Number((perMinute / baseline).toFixed(2));
    console.log(
      JSON.stringify({
        bench: 'throughput',
        backend,
        workers,
        concurrency,
        threads,
        jobs,
        jobsPerMinute: perMinute,
        ratio,
        samples,
      }),
    );
    log(
      `  ${workers} worker(s) x ${concurrency} job(s) at once, ${threads} thread(s) each: ${perMinute} jobs/min (x${ratio})`,
    );
  }
}

async function jobsPerMinute(
  backend: Backend,
  jobs: number,
  { workers, concurrency, threads }: { workers: number; concurrency: number; threads: number },
): Promise<number> {
  const shares = Array.from(
    { length: workers },
    (_, i) => Math.floor(jobs / workers) + (i < jobs % workers ? 1 : 0),
  );
  const children = shares.map((share) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--throughput-child',
        ...['--jobs', String(share), '--concurrency', String(concurrency), '--threads', String(threads)],
        ...['--job-size', args['job-size'], '--job-iterations', args['job-iterations']],
        ...['--layers', layerName, '--weights', weightsArg, '--backends', backend],
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error('a benchmark worker process exited early');
      return JSON.parse(value) as { ready?: true; start?: number; end?: number };
    };
    return { child, next };
  });
  // Every process has built its sessions and painted one job before the clock starts.
  await Promise.all(children.map((c) => c.next()));
  for (const c of children) c.child.stdin!.write('go\n');
  const spans = await Promise.all(children.map((c) => c.next()));
  const ms = Math.max(...spans.map((s) => s.end!)) - Math.min(...spans.map((s) => s.start!));
  return (jobs * 60_000) / ms;
}

/** A worker process of the throughput bench: one Painter, `--concurrency` jobs at once, `--jobs` in all. */
async function throughputChild(): Promise<void> {
  const size = Number(args['job-size']);
  const [content, style] = await images(size);
  const painter = await Painter.start({
    weightsDir: weightsArg,
    backend: (requested?.[0] ?? 'onnx') as Backend,
    threads: Number(args.threads),
  });
  const job = () =>
    painter.paint(
      {
        content,
        styles: [{ image: style, name: 'starry_night', weight: 1 }],
        options: {
          size,
          iterations: Number(args['job-iterations']),
          strength: 50,
          layers: layerName as LayerSetName,
          preserveColors: false,
        },
      },
      { signal: new AbortController().signal, progressEveryMs: 3_600_000, onProgress: () => {} },
    );
  await job();
  console.log(JSON.stringify({ ready: true }));
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const start = Date.now();
  let left = Number(args.jobs);
  await Promise.all(
    Array.from({ length: Number(args.concurrency) }, async () => {
      while (left > 0) {
        left--;
        await job();
      }
    }),
  );
  console.log(JSON.stringify({ start, end: Date.now() }));
  painter.dispose();
  process.exit(0);
}

/** The benchmark's content and style images at `size` x `size`. */
async function images(size: number): Promise<[RgbImage, RgbImage]> {
  return photos
    ? await Promise.all([photo('content/tubingen.jpg', size), photo('styles/starry_night.jpg', size)])
    : [noise(size, 1), noise(size, 2)];
}

async function photo(path: string, size: number): Promise<RgbImage> {
  const raw = await sharp(new URL(path, SHARED).pathname)
    .resize(size, size, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return rgbImage(size, size, Float32Array.from(raw));
}
