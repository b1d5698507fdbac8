/**
 * Memory of one painting, as the worker's and the CLI's estimate (engine/memory.ts) needs it:
 * `npx tsx bench/memory.ts [--layers shallow,paper] [--sizes 128,256,384,512] [--backend onnx]
 * [--weights DIR|random] [--per-scale 12] [--json]`.
 *
 * Each (layer set, size) runs in a fresh process (peak RSS only grows), which paints a square of seeded noise in
 * the style of another with the coarse-to-fine driver at its default scales, `--per-scale` iterations at each
 * (at least L-BFGS's history, so that its memory is all in use), on the real VGG-19 in ../shared/assets where it
 * is there (else, or with `--weights random`, VGG-19-shaped random weights: the same shapes), and reports its peak resident set (getrusage's ru_maxrss). One JSON line per run, then per
 * layer set the least-squares line peak = base + perMegapixel × megapixels of the result.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BACKENDS,
  type ConcreteBackend,
  createEvaluator,
  LAYER_SETS,
  type LayerSet,
  randomVggWeights,
  scaleSizes,
  stylize,
  weightsFromStrength,
} from '../engine/index.ts';
import { deepestLayer, type LayerSetName } from '../engine/vgg.ts';
import { runJsonChild } from './child.ts';
import { noise } from './measure.ts';

const REAL_WEIGHTS = fileURLToPath(new URL('../../shared/assets/vgg19-conv1-5', import.meta.url));

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: 'shallow,paper' },
    sizes: { type: 'string', default: '128,256,384,512' },
    backend: { type: 'string', default: 'onnx' },
    'per-scale': { type: 'string', default: '12' },
    weights: { type: 'string', default: existsSync(REAL_WEIGHTS) ? REAL_WEIGHTS : 'random' },
    child: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const MIB = 1024 * 1024;

interface Run {
  layers: string;
  size: number;
  backend: string;
  megapixels: number;
  iterations: number;
  /** Peak resident set of the whole process, MiB. */
  peakMiB: number;
  /** Resident set once the evaluator is made (runtime, weights, graphs), before painting, MiB. */
  startMiB: number;
  seconds: number;
}

function layerSet(name: string): LayerSet {
  if (!(name in LAYER_SETS)) throw new Error(`--layers: "${name}" is not one of paper, shallow`);
  const set = LAYER_SETS[name as LayerSetName];
  return { style: [...set.style], content: [...set.content] };
}

async function child(): Promise<void> {
  const layers = layerSet(args.layers);
  const size = Number(args.sizes);
  const backend = args.backend as ConcreteBackend;
  const perScale = Number(args['per-scale']);
  const evaluator = await createEvaluator({
    backend,
    weights:
      args.weights === 'random'
        ? randomVggWeights(deepestLayer([...layers.style, ...layers.content]))
        : args.weights,
    layers,
  });
  const startMiB = process.memoryUsage.rss() / MIB;
  const began = performance.now();
  const iterations = perScale * scaleSizes(size).length;
  await stylize(evaluator, {
    content: noise(size, 1),
    styles: [{ image: noise(size, 2) }],
    size,
    iterations,
    layers,
    weights: weightsFromStrength(50, layers),
  });
  const run: Run = {
    layers: args.layers,
    size,
    backend,
    megapixels: (size * size) / 1e6,
    iterations,
    peakMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    startMiB: Math.round(startMiB),
    seconds: Number(((performance.now() - began) / 1000).toFixed(1)),
  };
  evaluator.dispose();
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

function measure(layers: string, size: number): Promise<Run> {
  const flags = [
    ...['--child', '--layers', layers, '--sizes', String(size)],
    ...['--backend', args.backend, '--weights', args.weights],
  ];
  return runJsonChild(
    fileURLToPath(import.meta.url),
    [...flags, '--per-scale', args['per-scale']],
    `${layers} at ${size} px`,
  ) as Promise<Run>;
}

/** Least squares y = a + b x. */
function leastSquares(points: { x: number; y: number }[]): { base: number; slope: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { base: my - slope * mx, slope };
}

async function parent(): Promise<void> {
  if (!(BACKENDS as readonly string[]).includes(args.backend)) {
    throw new Error(`--backend: "${args.backend}" is not one of ${BACKENDS.join(', ')}`);
  }
  const sizes = args.sizes.split(',').map(Number);
  for (const layers of args.layers.split(',')) {
    layerSet(layers);
    const runs: Run[] = [];
    for (const size of sizes) {
      const run = await measure(layers, size);
      runs.push(run);
      process.stdout.write(`${JSON.stringify(run)}\n`);
    }
    const line = leastSquares(runs.map((r) => ({ x: r.megapixels, y: r.peakMiB })));
    const summary = {
      layers,
      backend: args.backend,
      baseMiB: Math.round(line.base),
      perMegapixelMiB: Math.round(line.slope),
      worstResidualMiB: Math.round(
        Math.max(...runs.map((r) => Math.abs(r.peakMiB - (line.base + line.slope * r.megapixels)))),
      ),
    };
    process.stdout.write(`${JSON.stringify({ fit: summary })}\n`);
  }
}

if (args.child) await child();
else await parent();
