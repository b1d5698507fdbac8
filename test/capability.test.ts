import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireMemory } from '../cli/preflight.ts';
import { estimatePeakBytes, largestSide } from '../engine/memory.ts';
import { checkShape, minimumSide } from '../engine/shape.ts';
import { resolveLayers, usableLayerSets } from '../engine/vgg.ts';
import { requirePaintableShape } from '../jobs/shape.ts';
import { describeCapability, resolveLayersSetting } from '../worker/capability.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';
import { writeRandomWeights } from './weights.ts';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const paper = resolveLayers('paper');
const shallow = resolveLayers('shallow');

describe('memory estimate', () => {
  it('is the measured line: a base plus a cost per megapixel of the result, per backend and layer set', () => {
    const onnx = (w: number, h: number, layers = shallow, jobs = 1) =>
      estimatePeakBytes(w, h, { layers, backend: 'onnx', jobs })!;
    expect(onnx(1000, 1000) / MIB).toBeCloseTo(243 + 6265, 0);
    expect(onnx(1000, 1000, paper) / MIB).toBeCloseTo(594 + 6553, 0);
    // Linear in pixels; a second job at once adds its own activations, not a second runtime.
    expect(onnx(2000, 1000) - onnx(1000, 1000)).toBeCloseTo(onnx(1000, 1000) - 243 * MIB, -3);
    expect(onnx(1000, 1000, shallow, 2) - onnx(1000, 1000)).toBeCloseTo(6265 * MIB, -3);
    // A custom set counts as the measured set of its deepest block.
    expect(onnx(500, 500, resolveLayers('style=conv1_1;content=conv3_4'))).toBe(onnx(500, 500));
    expect(onnx(500, 500, resolveLayers('style=conv1_1;content=conv4_2'))).toBe(onnx(500, 500, paper));
    // The GPU providers keep activations on the device: no estimate of the process's memory.
    expect(estimatePeakBytes(1000, 1000, { layers: shallow, backend: 'onnx-cuda' })).toBeUndefined();
  });

  it('gives the largest side that fits a budget: it fits, one more pixel does not', () => {
    for (const [budget, aspect] of [
      [8 * GIB, 1],
      [8 * GIB, 0.75],
      [21 * GIB, 1],
      [2 * GIB, 0.1],
    ] as const) {
      const request = { layers: shallow, backend: 'onnx' as const };
      const side = largestSide(budget, request, aspect)!;
      const short = (s: number) => s * aspect;
      expect(estimatePeakBytes(side, short(side), request)!).toBeLessThanOrEqual(budget);
      expect(estimatePeakBytes(side + 1, short(side + 1), request)!).toBeGreaterThan(budget);
    }
    expect(largestSide(100 * MIB, { layers: paper, backend: 'onnx' })).toBe(0);
  });

  it('the CLI refuses a painting that will not fit, with the estimate and a size that does (no allocation)', () => {
    const request = { layers: shallow, backend: 'onnx' as const };
    expect(() => requireMemory(4096, 3072, request, 24 * GIB)).toThrow(
      /^a 4096x3072 painting needs about 77\.2 GiB of memory on onnx, and 24\.0 GiB is available: use --size 2\d{3} or less$/,
    );
    const suggested = Number(
      /--size (\d+)/.exec(errorOf(() => requireMemory(4096, 3072, request, 24 * GIB)))![1],
    );
    expect(() => requireMemory(suggested, Math.round(suggested * 0.75), request, 24 * GIB)).not.toThrow();
    expect(() => requireMemory(512, 384, request, 24 * GIB)).not.toThrow();
    expect(() => requireMemory(512, 512, request, 100 * MIB)).toThrow(/free some memory first$/);
    // Unmeasured backends are not refused.
    expect(() => requireMemory(4096, 4096, { ...request, backend: 'onnx-webgpu' }, GIB)).not.toThrow();
  });
});

function errorOf(run: () => void): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('it did not throw');
}

describe('shapes the layers can paint', () => {
  it('the deepest layer must keep a position at the smallest scale: 16 px for the paper’s, 4 for the shallow', () => {
    expect(minimumSide(paper)).toBe(16);
    expect(minimumSide(shallow)).toBe(4);
    // At 384 px the driver starts at 192 px: 30×384 becomes 15×192 there, one pixel short of conv5_1's 16.
    expect(checkShape(30, 384, 384, paper)).toEqual({ ok: false, shortSide: 15, needed: 16, maxAspect: 12 });
    expect(checkShape(30, 384, 384, shallow).ok).toBe(true);
    expect(checkShape(1, 384, 384, shallow)).toMatchObject({ ok: false, shortSide: 1, maxAspect: 48 });
    expect(checkShape(384, 288, 384, paper).ok).toBe(true);
  });

  it('tells the member what to do, with no engine term', () => {
    const at = { size: 384, layers: 'paper' as const, maxSize: 512 };
    const refusal = (
      image: { width: number; height: number },
      subject: Parameters<typeof requirePaintableShape>[1],
    ) => errorOf(() => requirePaintableShape(image, subject, at));
    expect(refusal({ width: 1170, height: 15000 }, { kind: 'photo' })).toBe(
      'Your photo is too long and narrow for me to paint (1170×15000 pixels, about 13:1): at 384 px I can paint ' +
        'shapes up to about 12:1. Crop it to at most 12:1 and send it again, or ask for a size of 392 px or more.',
    );
    expect(refusal({ width: 5000, height: 1 }, { kind: 'style' })).toBe(
      'Your style image is too long and narrow for me to paint (5000×1 pixels, about 5000:1): at 384 px I can ' +
        'paint shapes up to about 12:1. Crop it to at most 12:1 and send it again.',
    );
    expect(refusal({ width: 1, height: 5000 }, { kind: 'preset', label: 'The Long One' })).toMatch(
      /^The painting The Long One is too long .* Choose another painting\.$/,
    );
    for (const text of [refusal({ width: 1, height: 5000 }, { kind: 'photo' })]) {
      expect(text).not.toMatch(/conv|layer|scale/);
    }
    expect(() =>
      requirePaintableShape({ width: 1170, height: 15000 }, { kind: 'photo' }, { ...at, layers: 'shallow' }),
    ).not.toThrow();
  });
});

describe('what a worker can paint', () => {
  let full: string;
  let empty: string;
  beforeAll(async () => {
    full = await writeRandomWeights(join(await mkdtemp(join(tmpdir(), 'stylize-weights-')), 'vgg19'));
    empty = await mkdtemp(join(tmpdir(), 'stylize-no-weights-'));
  });

  it('reads which layer sets the weights hold, and why not the others', async () => {
    expect(await usableLayerSets(full)).toEqual({ usable: ['paper', 'shallow'], unusable: {} });
    const small = await usableLayerSets(SHALLOW_WEIGHTS);
    expect(small.usable).toEqual(['shallow']);
    expect(small.unusable.paper).toMatch(
      /^layer conv4_1 \(block4_conv1\) is not in the weights at .*vgg19-conv1-3, which hold blocks 1-3 only: install the full VGG-19 with `stylize weights download`$/,
    );
    const none = await usableLayerSets(empty);
    expect(none.usable).toEqual([]);
    expect(none.unusable.shallow).toMatch(/no weights_manifest.json or model.json/);
  });

  it('resolves STYLIZE_LAYERS against them: auto falls back to shallow with a warning, paper is refused', async () => {
    const small = await usableLayerSets(SHALLOW_WEIGHTS);
    const auto = resolveLayersSetting('auto', small, SHALLOW_WEIGHTS);
    expect(auto.layers).toBe('shallow');
    expect(auto.warning).toMatch(
      /hold VGG-19 blocks 1-3 only: painting with the shallow layers \(style conv1_1/,
    );
    const paperOnSmall = resolveLayersSetting('paper', small, SHALLOW_WEIGHTS);
    expect(paperOnSmall.layers).toBeUndefined();
    expect(paperOnSmall.problem).toMatch(
      /^cannot paint with the paper layers \(STYLIZE_LAYERS\): layer conv4_1 .* or set STYLIZE_LAYERS=shallow \(or auto\)$/,
    );
    expect(resolveLayersSetting('auto', await usableLayerSets(full), full)).toEqual({ layers: 'paper' });
    expect(resolveLayersSetting('shallow', await usableLayerSets(full), full)).toEqual({ layers: 'shallow' });
    expect(resolveLayersSetting('auto', await usableLayerSets(empty), empty).problem).toMatch(
      /^cannot paint: no weights_manifest.json .*; install them with `stylize weights download`$/,
    );
  });

  it('declares, per layer set, the largest size its share of memory fits', async () => {
    const { capability, warning } = await describeCapability({
      weightsDir: full,
      setting: 'auto',
      backend: 'onnx',
      device: 'cpu',
      concurrency: 2,
      memoryBytes: 8 * GIB,
    });
    expect(warning).toBeUndefined();
    expect(capability).toEqual({
      sizes: {
        paper: largestSide(8 * GIB, { layers: paper, backend: 'onnx', jobs: 2 }),
        shallow: largestSide(8 * GIB, { layers: shallow, backend: 'onnx', jobs: 2 }),
      },
      auto: 'paper',
      backend: 'onnx',
      device: 'cpu',
      problem: null,
    });
    expect(capability.sizes.shallow).toBeGreaterThan(capability.sizes.paper!);
    // No measured figures for the GPU providers: no memory ceiling beyond the largest size there is.
    const gpu = await describeCapability({
      weightsDir: SHALLOW_WEIGHTS,
      setting: 'paper',
      backend: 'onnx-cuda',
      device: 'GPU 0',
      concurrency: 1,
      memoryBytes: GIB,
    });
    expect(gpu.capability).toMatchObject({ sizes: { shallow: 4096 }, auto: 'shallow' });
    expect(gpu.capability.problem).toMatch(/^cannot paint with the paper layers \(STYLIZE_LAYERS\)/);
  });
});
