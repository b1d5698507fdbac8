import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEvaluator, type RgbImage, rgbImage, stylize } from '../engine/index.ts';
import { weightsFromStrength } from '../engine/losses.ts';
import { LAYER_SETS, loadVggWeights } from '../engine/vgg.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';

const run = promisify(execFile);

async function decode(path: string, maxSide: number): Promise<RgbImage> {
  const { data, info } = await sharp(path)
    .resize(maxSide, maxSide, { fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return rgbImage(info.width, info.height, Float32Array.from(data));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stylize-onnx-'));
});

describe('stylize on ONNX Runtime', () => {
  it('paints the same picture as TensorFlow.js from the same start', async () => {
    const layers = { style: [...LAYER_SETS.shallow.style], content: [...LAYER_SETS.shallow.content] };
    const weights = await loadVggWeights(SHALLOW_WEIGHTS, 'conv3_2');
    const request = {
      content: await decode(asset('content/tubingen.jpg'), 48),
      styles: [{ image: await decode(asset('styles/starry_night.jpg'), 48) }],
      size: 48,
      iterations: 10,
      layers,
      weights: weightsFromStrength(50, layers),
      seed: 3,
    };
    const results = [];
    for (const backend of ['onnx', 'wasm'] as const) {
      const evaluator = await createEvaluator({ backend, weights, layers });
      try {
        expect(evaluator.backend).toBe(backend);
        results.push(await stylize(evaluator, request));
      } finally {
        evaluator.dispose();
      }
    }
    const [onnx, reference] = results as [
      Awaited<ReturnType<typeof stylize>>,
      Awaited<ReturnType<typeof stylize>>,
    ];
    expect(onnx.image.width).toBe(reference.image.width);
    expect(onnx.image.height).toBe(reference.image.height);
    expect(Math.abs(onnx.loss - reference.loss) / reference.loss).toBeLessThan(1e-2);
    let diff = 0;
    for (let i = 0; i < onnx.image.data.length; i++)
      diff += Math.abs(onnx.image.data[i]! - reference.image.data[i]!);
    expect(diff / onnx.image.data.length).toBeLessThan(2);
  });

  it('is chosen by the CLI with --backend onnx, and named in its JSON summary', async () => {
    const out = join(dir, 'onnx.png');
    const { stdout } = await run(process.execPath, [
      'bin/stylize.js',
      asset('content/tubingen.jpg'),
      '--style',
      asset('styles/starry_night.jpg'),
      '--weights',
      SHALLOW_WEIGHTS,
      '--layers',
      'shallow',
      '--size',
      '40',
      '--iterations',
      '4',
      '--backend',
      'onnx',
      '--out',
      out,
      '--json',
    ]);
    const summary = JSON.parse(stdout.trim());
    expect(summary).toMatchObject({ backend: 'onnx', size: { width: 40, height: 30 }, iterations: 4 });
    expect(summary.parts.style).toBeGreaterThan(0);
    expect(await sharp(out).metadata()).toMatchObject({ format: 'png', width: 40, height: 30 });
  });

  it('lists onnx among the backends when the CLI is given an unknown one', async () => {
    const failure = await run(process.execPath, [
      'bin/stylize.js',
      asset('content/tubingen.jpg'),
      '--style',
      asset('styles/starry_night.jpg'),
      '--out',
      join(dir, 'never.png'),
      '--backend',
      'gpu',
    ]).then(
      () => undefined,
      (error: { stderr: string }) => error,
    );
    expect(failure?.stderr).toMatch(/--backend must be one of auto, onnx, /);
  });
});
