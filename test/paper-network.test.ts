import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distances, JUDGE_LAYERS } from '../bench/distances.ts';
import { CONTENT_LAYERS, pixelError, reconstructionArgs, runReconstruction } from '../bench/paper-figure.ts';
import { createEvaluator, type Evaluator } from '../engine/index.ts';
import { decodeImage } from '../lib/images/index.ts';
import { asset, PAPER_WEIGHTS } from './assets.ts';

/**
 * The paper's layers (style conv1_1…conv5_1, content conv4_2) on the real VGG-19 in ../shared/assets, as the
 * README's quick start paints them. (The ONNX graph against TensorFlow.js's autodiff on these weights is a case
 * of onnx-crosscheck.test.ts.)
 */

const run = promisify(execFile);
let dir: string;
let judge: Evaluator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stylize-paper-'));
  judge = await createEvaluator({ backend: 'onnx', weights: PAPER_WEIGHTS, layers: JUDGE_LAYERS });
});
afterAll(async () => {
  judge?.dispose();
  await rm(dir, { recursive: true, force: true });
});

// Whole paintings on 2 shared cores: each takes one to two minutes there.
describe('the paper layers on the real VGG-19', () => {
  it('are what the CLI paints with by default, and its default strength keeps the photo and shows the painting', async () => {
    const out = join(dir, 'balanced.png');
    const photo = asset('content/tubingen.jpg');
    const painting = asset('styles/the_scream.jpg');
    const size = 128;
    const { stdout } = await run(process.execPath, [
      'bin/stylize.js',
      photo,
      '--style',
      painting,
      '--weights',
      PAPER_WEIGHTS,
      '--size',
      String(size),
      '--out',
      out,
      '--json',
    ]);
    const summary = JSON.parse(stdout.trim());
    expect(summary.layers).toEqual(JUDGE_LAYERS);
    expect(summary.strength).toBe(50);
    const d = await distances(judge, {
      result: await decodeImage(await readFile(out)),
      photo: await decodeImage(await readFile(photo), { maxSide: size }),
      painting: await decodeImage(await readFile(painting), { maxSide: size }),
    });
    // The balanced band: the photo recognisable (at most half as lost as in white noise), the painting's style
    // clearly there (its Gram distance at most a fifth of the photo's own).
    expect(d.content).toBeLessThan(0.5);
    expect(d.style).toBeLessThan(0.2);
    // …and neither end of it: some of the photo has given way to the painting.
    expect(d.content).toBeGreaterThan(0.1);
  }, 300_000);

  it('are refused by the CLI at a size whose painting would not fit in memory, before anything is allocated', async () => {
    const failure = await run(process.execPath, [
      'bin/stylize.js',
      asset('content/tubingen.jpg'),
      '--style',
      asset('styles/starry_night.jpg'),
      '--weights',
      PAPER_WEIGHTS,
      '--size',
      '4096',
      '--out',
      join(dir, 'never.png'),
    ]).then(
      () => undefined,
      (error: { stderr: string }) => error.stderr.trim(),
    );
    // 4096x3072 px on the paper layers: 594 MiB + 12.6 megapixels × 6553 MiB, the line measured on this network.
    expect(failure).toMatch(
      /^stylize: a 4096x3072 painting needs about 81\.\d GiB of memory on onnx, and \d+\.\d GiB is available: use --size \d+ or less$/,
    );
  });

  it('reconstructs the photo from noise less exactly the deeper the content layer (the paper’s figure 1)', async () => {
    const errors: number[] = [];
    for (const layer of CONTENT_LAYERS) {
      const args = reconstructionArgs(
        { content: layer },
        { size: 64, iterations: 100, weights: PAPER_WEIGHTS },
        join(dir, `${layer}.png`),
      );
      errors.push(await pixelError(await runReconstruction(args)));
    }
    for (let i = 1; i < errors.length; i++) expect(errors[i]).toBeGreaterThan(errors[i - 1]!);
    // The lowest layer gives back most of the photo from white noise (mean |Δ| ≈ 127 levels at the start).
    expect(errors[0]).toBeLessThan(40);
  }, 300_000);
});
