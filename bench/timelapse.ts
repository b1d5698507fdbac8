/**
 * What a job's timelapse costs: `npm run bench -- --timelapse [--sizes 256,512] [--iterations 100] [--rounds 1]
 * [--backend onnx] [--weights DIR] [--json]`.
 *
 * The same job (the Tübingen photo as The Starry Night where ../shared/assets holds them, else seeded noise; the
 * shallow layers, on the real weights where present, else random ones; every iteration run, no convergence stop)
 * is painted with and without the worker's timelapse (DEFAULT_TIMELAPSE), at each size. 100 iterations: about
 * what a default job takes before it converges at these sizes (see docs/benchmarks.md, "Time to a finished painting"); the frames' cost
 * grows with their number, at most 60, and the job's with its iterations.
 *
 * - time, in one process, alternating without and with frames `--rounds` times after a short warm-up, the medians
 *   kept: `measuredShare` is (with − without) / without, in wall time and in CPU time (every thread: steadier
 *   than wall time on a shared machine). The frames' own time is also timed inside the job (FrameRecorder's
 *   offer and finish, wrapped here), with the WebP encoding the worker does after it: `framesShare` is that over
 *   the same job's time. The first is what a job costs more, but on a shared machine the noise between two runs
 *   can exceed it; the second is what the frames themselves cost, within one run.
 * - memory, in two fresh processes (peak RSS only grows), one job each: `extraMiB` is the difference of their
 *   peak resident sets; `framesMiB` the most frame bytes kept at once (8-bit RGB).
 *
 * Prints one JSON line per size.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  type ConcreteBackend,
  createEvaluator,
  DEFAULT_TIMELAPSE,
  LAYER_SETS,
  type LayerSet,
  type RgbImage,
  randomVggWeights,
  rgbImage,
  stylize,
  weightsFromStrength,
} from '../engine/index.ts';
import { FrameRecorder } from '../engine/timelapse.ts';
import { deepestLayer, loadVggWeights } from '../engine/vgg.ts';
import { encodeAnimation } from '../lib/images/index.ts';
import { runJsonChild } from './child.ts';
import { median, noise } from './measure.ts';

const SHARED = new URL('../../shared/assets/', import.meta.url);
const SHALLOW_WEIGHTS = fileURLToPath(new URL('vgg19-conv1-3', SHARED));
const MIB = 1024 * 1024;

interface Timed {
  size: number;
  /** Median job time without and with the timelapse (its WebP encoding included), ms: wall and CPU (all threads). */
  withoutMs: number;
  withMs: number;
  withoutCpuMs: number;
  withCpuMs: number;
  /** Median time of the frames alone within a job (recording, finishing, WebP encoding), ms. */
  framesMs: number;
  frames: number;
  /** The most frame bytes kept at once, MiB. */
  framesMiB: number;
}

interface Peak {
  peakMiB: number;
}

export async function main(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      timelapse: { type: 'boolean', default: true },
      sizes: { type: 'string', default: '256,512' },
      iterations: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '1' },
      backend: { type: 'string', default: 'onnx' },
      weights: { type: 'string' },
      child: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const options = {
    iterations: Number(args.iterations),
    rounds: Number(args.rounds),
    backend: args.backend as ConcreteBackend,
    weights: args.weights ?? (existsSync(SHALLOW_WEIGHTS) ? SHALLOW_WEIGHTS : 'random'),
  };
  if (args.child) {
    const [mode, size] = args.child.split(':') as ['time' | 'with' | 'without', string];
    const result = await child(mode, Number(size), options);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (!args.json) {
    process.stderr.write(
      `bench --timelapse: ${options.backend}, shallow layers, weights ${options.weights}, ` +
        `${options.iterations} iterations, ${options.rounds} rounds\n`,
    );
  }
  for (const size of args.sizes.split(',').map(Number)) {
    const flags = ['--iterations', args.iterations, '--rounds', args.rounds, '--backend', args.backend];
    if (args.weights) flags.push('--weights', args.weights);
    const timed = (await run(['--child', `time:${size}`, ...flags])) as Timed;
    const without = (await run(['--child', `without:${size}`, ...flags])) as Peak;
    const withFrames = (await run(['--child', `with:${size}`, ...flags])) as Peak;
    const percent = (part: number, whole: number) => Number(((100 * part) / whole).toFixed(2));
    process.stdout.write(
      `${JSON.stringify({
        ...timed,
        measuredSharePercent: percent(timed.withMs - timed.withoutMs, timed.withoutMs),
        measuredCpuSharePercent: percent(timed.withCpuMs - timed.withoutCpuMs, timed.withoutCpuMs),
        framesSharePercent: percent(timed.framesMs, timed.withMs),
        peakWithoutMiB: without.peakMiB,
        peakWithMiB: withFrames.peakMiB,
        extraMiB: withFrames.peakMiB - without.peakMiB,
        extraPercent: percent(withFrames.peakMiB - without.peakMiB, without.peakMiB),
      })}\n`,
    );
  }
}

async function child(
  mode: 'time' | 'with' | 'without',
  size: number,
  options: { iterations: number; rounds: number; backend: ConcreteBackend; weights: string },
): Promise<Timed | Peak> {
  const set = LAYER_SETS.shallow;
  const layers: LayerSet = { style: [...set.style], content: [...set.content] };
  const deepest = deepestLayer([...layers.style, ...layers.content]);
  const evaluator = await createEvaluator({
    backend: options.backend,
    weights:
      options.weights === 'random'
        ? randomVggWeights(deepest, 1, 1)
        : await loadVggWeights(options.weights, deepest),
    layers,
  });
  const [content, style] = await images(size);
  // The frames' own time within a job: the recorder's methods, timed where stylize calls them.
  let framesMs = 0;
  let framesBytes = 0;
  for (const name of ['offer', 'finish'] as const) {
    const method = FrameRecorder.prototype[name] as (...a: unknown[]) => unknown;
    FrameRecorder.prototype[name] = function (this: FrameRecorder, ...a: unknown[]) {
      const began = performance.now();
      try {
        return method.apply(this, a);
      } finally {
        framesMs += performance.now() - began;
      }
    } as never;
  }
  const paint = async (frames: boolean, iterations = options.iterations) => {
    framesMs = 0;
    const began = performance.now();
    const cpu = process.cpuUsage();
    const result = await stylize(
      evaluator,
      {
        content,
        styles: [{ image: style }],
        size,
        iterations,
        stop: false,
        layers,
        weights: weightsFromStrength(50, layers),
      },
      { timelapse: frames ? DEFAULT_TIMELAPSE : undefined },
    );
    if (result.timelapse) {
      const encoding = performance.now();
      await encodeAnimation(result.timelapse, 'webp');
      framesMs += performance.now() - encoding;
      const frame = result.timelapse[0]!;
      // The recorder holds one frame more than it keeps just before it halves them.
      framesBytes = DEFAULT_TIMELAPSE.frames * frame.width * frame.height * 3;
    }
    const used = process.cpuUsage(cpu);
    return {
      ms: performance.now() - began,
      cpuMs: (used.user + used.system) / 1000,
      framesMs,
      frames: result.timelapse?.length ?? 0,
    };
  };
  try {
    if (mode !== 'time') {
      await paint(mode === 'with');
      return { peakMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
    }
    await paint(true, 2); // warm-up: sessions, allocations
    const without: Awaited<ReturnType<typeof paint>>[] = [];
    const withFrames: Awaited<ReturnType<typeof paint>>[] = [];
    for (let round = 0; round < options.rounds; round++) {
      without.push(await paint(false));
      withFrames.push(await paint(true));
    }
    return {
      size,
      withoutMs: Math.round(median(without.map((r) => r.ms))),
      withMs: Math.round(median(withFrames.map((r) => r.ms))),
      withoutCpuMs: Math.round(median(without.map((r) => r.cpuMs))),
      withCpuMs: Math.round(median(withFrames.map((r) => r.cpuMs))),
      framesMs: Number(median(withFrames.map((r) => r.framesMs)).toFixed(1)),
      frames: withFrames[0]!.frames,
      framesMiB: Number((framesBytes / MIB).toFixed(2)),
    };
  } finally {
    evaluator.dispose();
  }
}

/** The photo and the painting at `size` × `size` (the bench's square crops), or seeded noise without them. */
async function images(size: number): Promise<[RgbImage, RgbImage]> {
  if (!existsSync(new URL('content/tubingen.jpg', SHARED))) return [noise(size, 1), noise(size, 2)];
  const photo = async (path: string) => {
    const raw = await sharp(fileURLToPath(new URL(path, SHARED)))
      .resize(size, size, { fit: 'cover' })
      .removeAlpha()
      .raw()
      .toBuffer();
    return rgbImage(size, size, Float32Array.from(raw));
  };
  return [await photo('content/tubingen.jpg'), await photo('styles/starry_night.jpg')];
}

function run(flags: string[]): Promise<unknown> {
  const bench = fileURLToPath(new URL('./bench.ts', import.meta.url));
  return runJsonChild(bench, ['--timelapse', ...flags], `bench --timelapse ${flags.join(' ')}`);
}
