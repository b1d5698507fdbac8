/**
 * What each strength paints: `npm run bench -- --strength-scale [--size 192] [--layers paper|shallow]
 * [--weights DIR] [--photo tubingen] [--paintings starry_night,the_scream,shipwreck]
 * [--strengths 0,25,50,75,100] [--ratio R] [--iterations 300] [--sheet docs/strength.png] [--json]`.
 *
 * Paints the photo with each painting at each strength as a default job does (the driver's scales, schedule
 * and convergence stop, `--iterations` the ceiling) and prints one JSON line per painting: the iterations, the
 * seconds, and the distances of distances.ts (style ÷ the photo's, content ÷ noise's), judged on the paper's
 * layers whatever layers painted it (so `--weights` must hold the whole VGG-19). `--ratio` paints with that
 * style/content ratio at strength 50 instead of the layer set's (to tune it). `--sheet` writes the results as
 * one picture: a row per painting (the painting, then each strength).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEvaluator, type Evaluator, type RgbImage, stylize } from '../engine/index.ts';
import { weightsFromStrength } from '../engine/losses.ts';
import { LAYER_SETS, type LayerSet, type LayerSetName } from '../engine/vgg.ts';
import { type ContactSheetItem, contactSheet } from '../lib/images/index.ts';
import { type Distances, distances, JUDGE_LAYERS } from './distances.ts';
import { docsPng, name, readImage, round, SHARED } from './quality.ts';

export interface StrengthOptions {
  size: number;
  layers: LayerSetName;
  /** A VGG-19 weights directory holding conv5_1 (the distances are judged on the paper's layers). */
  weights: string;
  photo: string;
  paintings: string[];
  strengths: number[];
  iterations: number;
  /** Style/content ratio at strength 50 instead of the layer set's. */
  ratio?: number | undefined;
}

export interface StrengthRun extends Distances {
  bench: 'strength';
  photo: string;
  painting: string;
  layers: LayerSetName;
  size: number;
  strength: number;
  iterations: number;
  converged: boolean;
  seconds: number;
  loss: number;
}

/** Every painting × strength; `onRun` hears each as soon as it is painted, with the result. */
export async function strengthBench(
  options: StrengthOptions,
  onRun: (run: StrengthRun, image: RgbImage) => void = () => {},
): Promise<{ runs: StrengthRun[]; images: RgbImage[] }> {
  const set = LAYER_SETS[options.layers];
  const layers: LayerSet = { style: [...set.style], content: [...set.content] };
  const judge = await createEvaluator({ backend: 'onnx', weights: options.weights, layers: JUDGE_LAYERS });
  const painter: Evaluator =
    options.layers === 'paper'
      ? judge
      : await createEvaluator({ backend: 'onnx', weights: options.weights, layers });
  const runs: StrengthRun[] = [];
  const images: RgbImage[] = [];
  try {
    const photo = await readImage(options.photo, 'content', options.size);
    for (const paintingName of options.paintings) {
      const painting = await readImage(paintingName, 'styles', options.size);
      for (const strength of options.strengths) {
        const result = await stylize(painter, {
          content: photo,
          styles: [{ image: painting }],
          size: options.size,
          iterations: options.iterations,
          layers,
          weights: weightsFromStrength(strength, layers, options.ratio),
        });
        const run: StrengthRun = {
          bench: 'strength',
          photo: name(options.photo),
          painting: name(paintingName),
          layers: options.layers,
          size: options.size,
          strength,
          iterations: result.iterations,
          converged: result.converged,
          seconds: round(result.ms / 1000, 1),
          loss: round(result.loss, 4),
          ...rounded(await distances(judge, { result: result.image, photo, painting })),
        };
        runs.push(run);
        images.push(result.image);
        onRun(run, result.image);
      }
    }
  } finally {
    if (painter !== judge) painter.dispose();
    judge.dispose();
  }
  return { runs, images };
}

const rounded = (d: Distances): Distances => ({ style: round(d.style, 3), content: round(d.content, 3) });

/** A row per painting: the painting itself, then its results at each strength. */
async function sheet(options: StrengthOptions, images: RgbImage[]): Promise<Buffer> {
  const items: ContactSheetItem[] = [];
  for (const [p, paintingName] of options.paintings.entries()) {
    items.push({ image: await readImage(paintingName, 'styles', options.size), label: name(paintingName) });
    for (const [s, strength] of options.strengths.entries())
      items.push({ image: images[p * options.strengths.length + s]!, label: `strength ${strength}` });
  }
  return contactSheet(items, { columns: options.strengths.length + 1, cellSize: options.size });
}

export async function main(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      'strength-scale': { type: 'boolean' },
      size: { type: 'string', default: '192' },
      layers: { type: 'string', default: 'paper' },
      weights: { type: 'string', default: join(SHARED, 'vgg19-conv1-5') },
      photo: { type: 'string', default: 'tubingen' },
      paintings: { type: 'string', default: 'starry_night,the_scream,shipwreck' },
      strengths: { type: 'string', default: '0,25,50,75,100' },
      iterations: { type: 'string', default: '300' },
      ratio: { type: 'string' },
      sheet: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!(args.layers in LAYER_SETS)) throw new Error('--layers must be paper or shallow');
  const options: StrengthOptions = {
    size: Number(args.size),
    layers: args.layers as LayerSetName,
    weights: args.weights,
    photo: args.photo,
    paintings: args.paintings.split(','),
    strengths: args.strengths.split(',').map(Number),
    iterations: Number(args.iterations),
    ratio: args.ratio === undefined ? undefined : Number(args.ratio),
  };
  const { images } = await strengthBench(options, (run) => {
    console.log(JSON.stringify(run));
    if (!args.json) {
      process.stderr.write(
        `  ${run.painting} at strength ${run.strength}: ${run.iterations} iterations, ${run.seconds} s, ` +
          `style ${run.style} of the photo's, content ${run.content} of noise's\n`,
      );
    }
  });
  if (args.sheet) await writeFile(args.sheet, await docsPng(await sheet(options, images)));
}
