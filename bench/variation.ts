/**
 * What a Larger variation costs: `npm run bench -- --variation [--sizes 128,256] [--iterations 300]
 * [--pair tubingen:starry_night] [--strength N] [--rounds 2] [--photo kept|painting] [--weights DIR] [--json]`.
 *
 * For each size S, a painting at S (the default job: fine schedule, convergence stop), then, in alternating order
 * so that both see the same machine, the same job at the larger size L = 1.5 × S from scratch (coarse to fine,
 * the photo decoded at L) and the Larger variation (the engine's `start`: the painting at S upsampled, only the
 * final scale, the photo and painting as submitJob keeps them, at L; `--photo painting`: the photo at S, to
 * measure what keeping it only at the painting's size would cost). Both results are judged by the loss of the saved 8-bit image
 * under the objective of the job from scratch at L. One JSON line per size: evaluations, seconds (wall and CPU of
 * this process), loss, and the ratios variation / scratch (`--rounds`: the run of median time of each).
 */
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Backend,
  createEvaluator,
  DEFAULT_STRENGTH,
  type StylizeRequest,
  weightsFromStrength,
} from '../engine/index.ts';
import { finalObjective } from '../engine/stylize.ts';
import { LAYER_SETS } from '../engine/vgg.ts';
import { LARGER_FACTOR } from '../jobs/options.ts';
import { recommendedStrength } from '../presets/catalogue.ts';
import { measured, medianBy, name, type Run, readImage, round, SHARED } from './quality.ts';

export interface VariationResult {
  bench: 'variation';
  pair: string;
  /** The painting's size and the Larger variation's, px. */
  from: number;
  size: number;
  strength: number;
  iterations: number;
  /** The painting at `from`, which the variation starts from. */
  painting: Run;
  /** The photo the variation painted from: as submitJob keeps it (at `size`), or at the painting's size. */
  photo: 'kept' | 'painting';
  scratch: Run;
  variation: Run;
  rounds: number;
  /** variation / scratch. */
  ratios: { seconds: number; cpuSeconds: number; evaluations: number; loss: number };
}

export async function main(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      variation: { type: 'boolean' },
      sizes: { type: 'string', default: '128,256' },
      iterations: { type: 'string', default: '300' },
      pair: { type: 'string', default: 'tubingen:starry_night' },
      strength: { type: 'string' },
      rounds: { type: 'string', default: '2' },
      photo: { type: 'string', default: 'kept' },
      weights: { type: 'string', default: join(SHARED, 'vgg19-conv1-3') },
      backend: { type: 'string', default: 'onnx' },
      json: { type: 'boolean', default: false },
    },
  });
  const [contentName, styleName] = args.pair.split(':');
  if (!contentName || !styleName) throw new Error(`--pair: "${args.pair}" is not photo:painting`);
  const iterations = Number(args.iterations);
  if (args.photo !== 'kept' && args.photo !== 'painting') throw new Error('--photo is kept or painting');
  const layers = { style: [...LAYER_SETS.shallow.style], content: [...LAYER_SETS.shallow.content] };
  const evaluator = await createEvaluator({
    backend: args.backend as Backend,
    weights: args.weights,
    layers,
  });
  const strength =
    args.strength === undefined
      ? ((await recommendedStrength([{ preset: basename(styleName, extname(styleName)) }])) ??
        DEFAULT_STRENGTH)
      : Number(args.strength);
  try {
    for (const from of args.sizes.split(',').map(Number)) {
      const size = Math.round(from * LARGER_FACTOR);
      const [atPainting, photo, style] = await Promise.all([
        readImage(contentName, 'content', from),
        readImage(contentName, 'content', size),
        readImage(styleName, 'styles', size),
      ]);
      const base = (content: typeof photo, at: number): StylizeRequest => ({
        content,
        styles: [{ image: style }],
        size: at,
        iterations,
        layers,
        weights: weightsFromStrength(strength, layers),
      });
      const judge = await finalObjective(evaluator, base(photo, size));
      try {
        const saved = async (image: { data: Float32Array }) =>
          (await judge.evaluate(Float32Array.from(image.data, Math.round))).loss;
        // The first run of a process pays for kernels' first use: not part of any measurement.
        await measured(evaluator, { ...base(photo, size), iterations: 2, stop: false }, saved);
        const painting = await measured(evaluator, base(atPainting, from), async () => Number.NaN);
        const scratches: Run[] = [];
        const variations: Run[] = [];
        const rounds = Number(args.rounds);
        for (let round = 0; round < rounds; round++) {
          const scratch = () =>
            measured(evaluator, base(photo, size), saved).then((r) => scratches.push(r.run));
          const variation = () =>
            measured(
              evaluator,
              { ...base(args.photo === 'kept' ? photo : atPainting, size), start: painting.image },
              saved,
            ).then((r) => variations.push(r.run));
          if (round % 2 === 0) await scratch().then(variation);
          else await variation().then(scratch);
        }
        const scratch = medianBy(scratches, (r) => r.seconds);
        const variation = medianBy(variations, (r) => r.seconds);
        const result: VariationResult = {
          bench: 'variation',
          pair: `${name(contentName)} × ${name(styleName)}`,
          from,
          size,
          strength,
          iterations,
          painting: painting.run,
          photo: args.photo,
          scratch,
          variation,
          rounds,
          ratios: {
            seconds: round(variation.seconds / scratch.seconds, 3),
            cpuSeconds: round(variation.cpuSeconds / scratch.cpuSeconds, 3),
            evaluations: round(variation.evaluations / scratch.evaluations, 3),
            loss: round(variation.loss / scratch.loss, 4),
          },
        };
        console.log(JSON.stringify(result));
        if (!args.json) {
          process.stderr.write(
            `  ${result.pair}, ${from} → ${size} px, strength ${strength}: from scratch ${scratch.evaluations} ` +
              `evaluations, ${scratch.seconds} s, loss ${scratch.loss}; Larger from the ${from} px painting ` +
              `${variation.evaluations} evaluations, ${variation.seconds} s, loss ${variation.loss} ` +
              `(time ×${result.ratios.seconds}, CPU ×${result.ratios.cpuSeconds}, loss ×${result.ratios.loss})\n`,
          );
        }
      } finally {
        judge.dispose();
      }
    }
  } finally {
    evaluator.dispose();
  }
}
