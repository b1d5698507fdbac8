/**
 * The first figure of Gatys et al. (2016), painted with the CLI on the real VGG-19:
 * `npm run bench -- --paper-figure [--size 160] [--iterations 300] [--weights DIR] [--sheet docs/paper-figure.png]
 * [--json]`.
 *
 * From white noise, each image is optimised to match one thing only: the photo's features at conv1_2, conv2_2,
 * conv3_2, conv4_2 or conv5_2 (content reconstructions: the lower layers give the photo back almost exactly, the
 * higher ones keep its layout and lose the detail), or the painting's Gram matrices at conv1_1, then
 * conv1_1 + conv2_1, … up to all five style layers (style reconstructions: the painting's texture on a growing
 * scale, with no trace of its layout). Each is one `stylize` run, printed as it is run, at one scale, with no
 * smoothness term and no convergence stop. One JSON line per reconstruction (its command, and for the content
 * ones the mean absolute pixel difference from the photo, 0-255); `--sheet` writes them as one picture: the
 * photo then the content row, the painting then the style row.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { type RgbImage, resize } from '../engine/image.ts';
import { contactSheet, decodeImage } from '../lib/images/index.ts';
import { docsPng, readImage, round, SHARED } from './quality.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/stylize.js');
const PHOTO = join(SHARED, 'content/tubingen.jpg');
const PAINTING = join(SHARED, 'styles/starry_night.jpg');

export const CONTENT_LAYERS = ['conv1_2', 'conv2_2', 'conv3_2', 'conv4_2', 'conv5_2'] as const;
export const STYLE_LAYERS = ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'] as const;

export interface FigureOptions {
  size: number;
  iterations: number;
  weights: string;
}

/** The CLI's arguments for one reconstruction from noise: of the photo's features, or of the painting's style. */
export function reconstructionArgs(
  of: { content: string } | { style: readonly string[] },
  options: FigureOptions,
  out: string,
): string[] {
  const only =
    'content' in of
      ? ['--layers', `style=conv1_1;content=${of.content}`, '--style-weight', '0', '--content-weight', '1']
      : [
          '--layers',
          `style=${of.style.join(',')};content=conv1_1`,
          '--content-weight',
          '0',
          '--style-weight',
          '1',
        ];
  return [
    PHOTO,
    '--style',
    PAINTING,
    '--weights',
    options.weights,
    ...only,
    ...['--tv-weight', '0', '--init', 'noise', '--scales', '1', '--no-early-stop'],
    ...['--size', String(options.size), '--iterations', String(options.iterations), '--out', out],
  ];
}

/** Runs the CLI with `args` (a reconstruction) and reads back its result. */
export async function runReconstruction(args: string[]): Promise<RgbImage> {
  await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
  return decodeImage(await readFile(args[args.indexOf('--out') + 1]!));
}

/** Mean absolute difference per pixel value (0-255) between `image` and the photo at its size. */
export async function pixelError(image: RgbImage): Promise<number> {
  const photo = resize(await readImage(PHOTO, 'content', 4096), image.width, image.height);
  let sum = 0;
  for (let i = 0; i < image.data.length; i++) sum += Math.abs(image.data[i]! - photo.data[i]!);
  return sum / image.data.length;
}

/** The command as a person would type it from the repository root (the result in the current directory). */
const shown = (args: string[]) =>
  `npx stylize ${args
    .map((a, i) => (args[i - 1] === '--out' ? basename(a) : a.startsWith('/') ? relative(ROOT, a) : a))
    .map(quoted)
    .join(' ')}`;
const quoted = (arg: string) => (/[;,]/.test(arg) ? `"${arg}"` : arg);

export async function main(argv: string[]): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      'paper-figure': { type: 'boolean' },
      size: { type: 'string', default: '160' },
      iterations: { type: 'string', default: '300' },
      weights: { type: 'string', default: join(SHARED, 'vgg19-conv1-5') },
      sheet: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const options = { size: Number(args.size), iterations: Number(args.iterations), weights: args.weights };
  const dir = await mkdtemp(join(tmpdir(), 'paper-figure-'));
  try {
    const rows: { image: RgbImage; label: string }[][] = [
      [{ image: await readImage(PHOTO, 'content', options.size), label: 'photo' }],
      [{ image: await readImage(PAINTING, 'styles', options.size), label: 'painting' }],
    ];
    const runs = [
      ...CONTENT_LAYERS.map((layer) => ({ row: 0, of: { content: layer }, label: layer })),
      ...STYLE_LAYERS.map((layer, i) => ({
        row: 1,
        of: { style: STYLE_LAYERS.slice(0, i + 1) },
        label: i === 0 ? layer : `+${layer}`,
      })),
    ];
    for (const run of runs) {
      const file = `${run.row === 0 ? 'content' : 'style'}-${run.label.replace('+', '')}.png`;
      const cliArgs = reconstructionArgs(run.of, options, join(dir, file));
      const began = performance.now();
      const image = await runReconstruction(cliArgs);
      rows[run.row]!.push({ image, label: run.label });
      const line = {
        bench: 'paper-figure',
        reconstruction: 'content' in run.of ? 'content' : 'style',
        layers: run.label,
        seconds: round((performance.now() - began) / 1000, 1),
        ...('content' in run.of ? { pixelError: round(await pixelError(image), 2) } : {}),
        command: shown(cliArgs),
      };
      console.log(JSON.stringify(line));
      if (!args.json) process.stderr.write(`  ${line.command}\n`);
    }
    if (args.sheet) {
      const items = rows.flat();
      await writeFile(
        args.sheet,
        await docsPng(await contactSheet(items, { columns: rows[0]!.length, cellSize: options.size })),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
