/**
 * Time to a finished painting: `npm run bench -- --quality [--size 256] [--layers paper|shallow] [--weights DIR]
 * [--pairs tubingen:starry_night,golden_gate:the_scream] [--evaluations 25,50,100,200,300] [--strength N]
 * [--rounds N] [--schedules] [--out DIR] [--json]`.
 *
 * A fixed problem on the real VGG-19 (../shared/assets/vgg19-conv1-5, the paper's layers, by default): for each
 * photo × painting pair, the
 * loss of the saved 8-bit result (rounded and clamped, as written to a file) under the final scale's
 * objective, after each number of evaluations with the default schedule and no stop; then the default
 * schedule with the convergence stop (evaluations, seconds, loss, and the distances of distances.ts: style ÷
 * the photo's, content ÷ noise's, where the weights hold conv5_1), and today's engine before the stop (even
 * split, no projection into 0-255, every iteration of the ceiling), run right after it so that both see the
 * same machine (`--rounds`: that many of each, in alternating order, the medians kept). `--schedules` adds every schedule with and without the stop, and the default without
 * projection, with the compute each used (`work`: evaluations weighted by their pixels, in final-size
 * evaluations). The strength is the painting's recommended one when it is a catalogue preset (as for a bot or
 * CLI job naming the preset), else the default.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  type Backend,
  createEvaluator,
  DEFAULT_STRENGTH,
  type Evaluator,
  type RgbImage,
  type StylizeRequest,
  stylize,
  weightsFromStrength,
} from '../engine/index.ts';
import { DEFAULT_SCHEDULE, SCHEDULES, type Schedule } from '../engine/schedule.ts';
import { finalObjective } from '../engine/stylize.ts';
import { LAYER_SETS, type LayerSetName } from '../engine/vgg.ts';
import { decodeImage, encodeImage } from '../lib/images/index.ts';
import { recommendedStrength } from '../presets/catalogue.ts';
import { type Distances, distances, JUDGE_LAYERS } from './distances.ts';

export const SHARED = fileURLToPath(new URL('../../shared/assets/', import.meta.url));

export interface QualityOptions {
  /** Longer side of the result, px. */
  size: number;
  /** VGG-19 weights directory: the whole network for the paper's layers, blocks 1-3 for the shallow ones. */
  weights: string;
  /** Default paper. */
  layers?: LayerSetName | undefined;
  /** Photo and painting: a file name in ../shared/assets/content and …/styles (without .jpg), or a path. */
  pairs: { content: string; style: string }[];
  /** Ceilings at which the loss curve is taken, ascending; the last is also the ceiling of the stop runs. */
  evaluations: number[];
  strength?: number | undefined;
  /** Every schedule, with and without the stop, and the default without projection. */
  schedules?: boolean | undefined;
  /** Rounds of the default with the stop against today's engine (default 1). */
  rounds?: number | undefined;
  /** Writes each pair's result with the default schedule and the stop here, as PNG. */
  out?: string | undefined;
  backend?: Backend | undefined;
}

/** One run: the loss of its saved result, and what it cost. */
export interface Run {
  evaluations: number;
  /** Evaluations weighted by their pixel counts, in evaluations at the final size. */
  work: number;
  seconds: number;
  /** CPU time of this process (all its threads), which waits for a busy machine's cores inflate less. */
  cpuSeconds: number;
  loss: number;
  converged: boolean;
}

export interface QualityResult {
  bench: 'quality';
  pair: string;
  size: number;
  strength: number;
  schedule: Schedule;
  /** The default schedule without the stop: the saved result's loss with each ceiling. */
  lossAfter: Record<number, number>;
  secondsAfter: Record<number, number>;
  /** The default schedule with the convergence stop, ceiling the last of `evaluations`. */
  stopped: Run;
  /** The stopped run's result judged on the paper's layers; absent where the weights stop before conv5_1. */
  distances?: Distances | undefined;
  /** Today's engine before the stop and the projection: even split, every iteration of the ceiling. */
  before: Run;
  /** Rounds of `stopped` and `before`, in alternating order; each is the run of median time. */
  rounds: number;
  /** stopped.seconds / before.seconds, and each loss over the other (1.01: 1% above). */
  ratios: { seconds: number; cpuSeconds: number; lossVsBefore: number; lossVsFullCeiling: number };
  /** With `schedules`: each variant with and without the stop (name: schedule[, stop][, no projection]). */
  variants?: Record<
    string,
    { lossAfter: Record<number, number>; workAfter: Record<number, number>; stopped: Run }
  >;
}

/** Runs the bench; `onResult` hears each pair's result as soon as it is measured. */
export async function qualityBench(
  options: QualityOptions,
  onResult: (result: QualityResult) => void = () => {},
): Promise<QualityResult[]> {
  const set = LAYER_SETS[options.layers ?? 'paper'];
  const layers = { style: [...set.style], content: [...set.content] };
  const evaluator = await createEvaluator({
    backend: options.backend ?? 'onnx',
    weights: options.weights,
    layers,
  });
  const paper = await paperEvaluator(evaluator, options);
  const ceiling = options.evaluations.at(-1)!;
  const results: QualityResult[] = [];
  try {
    for (const pair of options.pairs) {
      const [content, style] = await Promise.all([
        readImage(pair.content, 'content', options.size),
        readImage(pair.style, 'styles', options.size),
      ]);
      const strength =
        options.strength ??
        (await recommendedStrength([{ preset: basename(pair.style, extname(pair.style)) }])) ??
        DEFAULT_STRENGTH;
      const base: StylizeRequest = {
        content,
        styles: [{ image: style }],
        size: options.size,
        iterations: ceiling,
        layers,
        weights: weightsFromStrength(strength, layers),
      };
      const judge = await finalObjective(evaluator, base);
      try {
        const measure = (request: Partial<StylizeRequest>) =>
          measured(evaluator, { ...base, ...request }, async (image) => {
            const saved = Float32Array.from(image.data, Math.round);
            return (await judge.evaluate(saved)).loss;
          });
        // The first run of a process pays for kernels' first use: not part of any measurement.
        await measure({ iterations: 2, stop: false });
        const curve = async (request: Partial<StylizeRequest>) => {
          const runs = new Map<number, Run>();
          for (const n of options.evaluations)
            runs.set(n, (await measure({ ...request, iterations: n, stop: false })).run);
          return runs;
        };
        const lossCurve = await curve({});
        // Rounds of the two, in alternating order, so that both see the same machine; the medians are kept.
        const stops: Awaited<ReturnType<typeof measure>>[] = [];
        const befores: Run[] = [];
        for (let round = 0; round < (options.rounds ?? 1); round++) {
          const stop = () => measure({}).then((r) => stops.push(r));
          const old = () => measure(BEFORE).then((r) => befores.push(r.run));
          if (round % 2 === 0) await stop().then(old);
          else await old().then(stop);
        }
        const { run: stopped, image } = medianBy(stops, (r) => r.run.seconds);
        const before = medianBy(befores, (r) => r.seconds);
        const result: QualityResult = {
          bench: 'quality',
          pair: `${name(pair.content)} × ${name(pair.style)}`,
          size: options.size,
          strength,
          schedule: DEFAULT_SCHEDULE,
          lossAfter: Object.fromEntries([...lossCurve].map(([n, r]) => [n, round(r.loss, 4)])),
          secondsAfter: Object.fromEntries([...lossCurve].map(([n, r]) => [n, round(r.seconds, 2)])),
          stopped,
          distances: paper && (await distances(paper, { result: image, photo: content, painting: style })),
          before,
          rounds: stops.length,
          ratios: {
            seconds: round(stopped.seconds / before.seconds, 3),
            cpuSeconds: round(stopped.cpuSeconds / before.cpuSeconds, 3),
            lossVsBefore: round(stopped.loss / before.loss, 4),
            lossVsFullCeiling: round(stopped.loss / lossCurve.get(ceiling)!.loss, 4),
          },
        };
        if (options.schedules) {
          result.variants = {};
          const variants: [string, Partial<StylizeRequest>][] = [
            ...SCHEDULES.map((schedule): [string, Partial<StylizeRequest>] => [schedule, { schedule }]),
            [`${DEFAULT_SCHEDULE}, no projection`, { project: false }],
          ];
          for (const [label, request] of variants) {
            const isDefault = label === DEFAULT_SCHEDULE;
            const runs = isDefault ? lossCurve : await curve(request);
            result.variants[label] = {
              lossAfter: Object.fromEntries([...runs].map(([n, r]) => [n, round(r.loss, 4)])),
              workAfter: Object.fromEntries([...runs].map(([n, r]) => [n, round(r.work, 1)])),
              stopped: isDefault ? stopped : (await measure(request)).run,
            };
          }
        }
        if (options.out) {
          const file = join(options.out, `${name(pair.content)}-${name(pair.style)}-${options.size}.png`);
          await writeFile(file, await encodeImage(image, 'png'));
        }
        results.push(result);
        onResult(result);
      } finally {
        judge.dispose();
      }
    }
  } finally {
    if (paper !== evaluator) paper?.dispose();
    evaluator.dispose();
  }
  return results;
}

/** An evaluator on the paper's layers for the distances: `evaluator` itself when it paints with them. */
async function paperEvaluator(evaluator: Evaluator, options: QualityOptions): Promise<Evaluator | undefined> {
  if ((options.layers ?? 'paper') === 'paper') return evaluator;
  return createEvaluator({ backend: 'onnx', weights: options.weights, layers: JUDGE_LAYERS }).catch(
    () => undefined,
  );
}

/** Today's engine before the convergence stop: even split, no projection, every iteration of the ceiling. */
const BEFORE: Partial<StylizeRequest> = { schedule: 'even', stop: false, project: false };

export function medianBy<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]!;
}

/** One stylization, timed, with its evaluations counted per scale and its saved result judged. */
export async function measured(
  evaluator: Evaluator,
  request: StylizeRequest,
  judge: (image: RgbImage) => Promise<number>,
): Promise<{ run: Run; image: RgbImage }> {
  const perScale = new Map<number, { count: number; pixels: number }>();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await stylize(evaluator, request, {
    progressEvery: { iterations: 1 },
    onProgress: (p) => {
      const entry = perScale.get(p.scale) ?? { count: 0, pixels: p.width * p.height };
      entry.count++;
      perScale.set(p.scale, entry);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const finalPixels = result.image.width * result.image.height;
  const work = [...perScale.values()].reduce((sum, s) => sum + (s.count * s.pixels) / finalPixels, 0);
  return {
    run: {
      evaluations: result.iterations,
      work: round(work, 1),
      seconds: round(seconds, 2),
      cpuSeconds: round((user + system) / 1e6, 2),
      loss: round(await judge(result.image), 4),
      converged: result.converged,
    },
    image: result.image,
  };
}

export async function readImage(
  nameOrPath: string,
  folder: 'content' | 'styles',
  size: number,
): Promise<RgbImage> {
  const path =
    isAbsolute(nameOrPath) || extname(nameOrPath) ? nameOrPath : join(SHARED, folder, `${nameOrPath}.jpg`);
  return decodeImage(await readFile(path), { maxSide: size });
}

function layerSetName(value: string): LayerSetName {
  if (!(value in LAYER_SETS)) throw new Error(`--layers must be ${Object.keys(LAYER_SETS).join(' or ')}`);
  return value as LayerSetName;
}

/** A picture for the docs: a palette PNG (at most 256 colours, dithered), a third of the size of a full one. */
export const docsPng = (png: Buffer): Promise<Buffer> =>
  sharp(png).png({ palette: true, compressionLevel: 9, effort: 10 }).toBuffer();

export const name = (nameOrPath: string) => basename(nameOrPath, extname(nameOrPath));
export const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** `npm run bench -- --quality …`: one JSON line per pair on stdout, a summary per pair on stderr. */
export async function main(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      quality: { type: 'boolean' },
      size: { type: 'string', default: '256' },
      layers: { type: 'string', default: 'paper' },
      weights: { type: 'string', default: join(SHARED, 'vgg19-conv1-5') },
      pairs: { type: 'string', default: 'tubingen:starry_night,golden_gate:the_scream' },
      evaluations: { type: 'string', default: '25,50,100,200,300' },
      strength: { type: 'string' },
      schedules: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      out: { type: 'string' },
      backend: { type: 'string', default: 'onnx' },
      json: { type: 'boolean', default: false },
    },
  });
  const evaluations = args.evaluations.split(',').map(Number);
  if (!evaluations.every((n, i) => Number.isInteger(n) && n > 0 && (i === 0 || n > evaluations[i - 1]!))) {
    throw new Error('--evaluations takes ascending whole numbers, e.g. 25,50,100,200,300');
  }
  const pairs = args.pairs.split(',').map((p) => {
    const [content, style] = p.split(':');
    if (!content || !style) throw new Error(`--pairs: "${p}" is not photo:painting`);
    return { content, style };
  });
  await qualityBench(
    {
      size: Number(args.size),
      weights: args.weights,
      layers: layerSetName(args.layers),
      pairs,
      evaluations,
      strength: args.strength === undefined ? undefined : Number(args.strength),
      schedules: args.schedules,
      rounds: Number(args.rounds),
      out: args.out,
      backend: args.backend as Backend,
    },
    (result) => {
      console.log(JSON.stringify(result));
      if (args.json) return;
      const { stopped, before, ratios } = result;
      process.stderr.write(
        `  ${result.pair} at ${result.size} px, strength ${result.strength}: loss ${JSON.stringify(result.lossAfter)} ` +
          `after that many evaluations; with the stop ${stopped.evaluations} evaluations, ${stopped.seconds} s, ` +
          `loss ${stopped.loss}${result.distances ? `, style ${round(result.distances.style, 3)} of the photo's, content ${round(result.distances.content, 3)} of noise's` : ''}; before: ${before.evaluations} evaluations, ${before.seconds} s, loss ${before.loss} ` +
          `(time ×${ratios.seconds}, loss ×${ratios.lossVsBefore}, ×${ratios.lossVsFullCeiling} of the full ceiling's)\n`,
      );
    },
  );
}
