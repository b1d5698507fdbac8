import { afterAll, describe, expect, it } from 'vitest';
import type { Evaluator } from '../worker/engine/evaluator.ts';
import { createEvaluator, type Pooling, randomVggWeights, rgbImage } from '../worker/engine/index.ts';
import { lossTerms } from '../worker/engine/losses.ts';
import { OnnxEvaluator } from '../worker/engine/onnx/evaluator.ts';
import { buildLossGraph } from '../worker/engine/onnx/graph.ts';
import { mulberry32 } from '../worker/engine/random.ts';
import { deepestLayer, type LayerSet, loadVggWeights, type VggWeights } from '../worker/engine/vgg.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';

/**
 * The ONNX Runtime evaluator's explicit backward graph against TensorFlow.js's autodiff (the `cpu` backend,
 * plain JavaScript, as the reference): targets, loss, parts and gradient agree to 1e-3.
 */

const random = mulberry32(11);
const randomImage = (w: number, h: number) =>
  rgbImage(
    w,
    h,
    Float32Array.from({ length: w * h * 3 }, () => 255 * random()),
  );

/** ‖a − b‖ / ‖b‖. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

interface Case {
  name: string;
  weights: () => Promise<VggWeights> | VggWeights;
  layers: LayerSet;
  pooling: Pooling;
  size: [number, number];
  styleSize: [number, number];
  backward?: 'conv' | 'conv-transpose';
}

const cases: Case[] = [
  {
    name: 'paper layers, avg pooling, odd sizes at every level',
    weights: () => randomVggWeights('conv5_1', 5, 1 / 16),
    layers: { style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'], content: ['conv4_2'] },
    pooling: 'avg',
    size: [37, 34],
    styleSize: [35, 41],
  },
  {
    name: 'content and style on one layer, max pooling, 13x10',
    weights: () => randomVggWeights('conv3_1', 6, 1 / 8),
    layers: { style: ['conv1_1', 'conv2_2', 'conv3_1'], content: ['conv3_1'] },
    pooling: 'max',
    size: [13, 10],
    styleSize: [11, 9],
  },
  {
    name: 'several content layers, avg pooling, 13x10, transposed-convolution backward',
    weights: () => randomVggWeights('conv2_2', 7, 1 / 8),
    layers: { style: ['conv1_2', 'conv2_1'], content: ['conv1_1', 'conv2_2'] },
    pooling: 'avg',
    size: [13, 10],
    styleSize: [10, 13],
    backward: 'conv-transpose',
  },
  {
    name: 'shallow layers, max pooling, odd sizes, transposed-convolution backward',
    weights: () => randomVggWeights('conv3_2', 8, 1 / 8),
    layers: { style: ['conv1_1', 'conv2_1', 'conv3_1'], content: ['conv3_2'] },
    pooling: 'max',
    size: [21, 15],
    styleSize: [17, 19],
    backward: 'conv-transpose',
  },
  {
    name: 'the real shallow VGG-19 weights at 32x24',
    weights: () => loadVggWeights(SHALLOW_WEIGHTS, 'conv3_2'),
    layers: { style: ['conv1_1', 'conv2_1', 'conv3_1'], content: ['conv3_2'] },
    pooling: 'avg',
    size: [32, 24],
    styleSize: [28, 30],
  },
];

const evaluators: Evaluator[] = [];
afterAll(() => {
  for (const e of evaluators) e.dispose();
});

describe('ONNX evaluator against TensorFlow.js', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const weights = await c.weights();
      const options = { weights, layers: c.layers, pooling: c.pooling };
      const reference = await createEvaluator({ ...options, backend: 'cpu' });
      const onnx = await OnnxEvaluator.create(weights, c.layers, {
        pooling: c.pooling,
        backward: c.backward,
      });
      evaluators.push(reference, onnx);
      expect(onnx.backend).toBe('onnx');

      const [w, h] = c.size;
      const content = randomImage(w, h);
      const style = randomImage(...c.styleSize);
      const contentLayers = { content: c.layers.content, style: [] };
      const styleLayers = { content: [], style: c.layers.style };
      const expected = {
        content: (await reference.targets(content, contentLayers)).content,
        style: (await reference.targets(style, styleLayers)).style,
      };
      const actual = {
        content: (await onnx.targets(content, contentLayers)).content,
        style: (await onnx.targets(style, styleLayers)).style,
      };
      for (const layer of c.layers.content) {
        expect(relativeError(actual.content.get(layer)!, expected.content.get(layer)!)).toBeLessThan(1e-3);
      }
      for (const layer of c.layers.style) {
        expect(relativeError(actual.style.get(layer)!, expected.style.get(layer)!)).toBeLessThan(1e-3);
      }

      // Both objectives get the reference's targets: either evaluator must accept the other's (or a cache's).
      const terms = lossTerms(expected, { content: 1, style: 10, tv: 1 });
      const x = randomImage(w, h).data;
      const want = await (await reference.objective(w, h, terms)).evaluate(x);
      const objective = await onnx.objective(w, h, terms);
      const got = await objective.evaluate(x);
      expect(want.parts.content).toBeGreaterThan(0);
      expect(want.parts.style).toBeGreaterThan(0);
      expect(relative(got.loss, want.loss)).toBeLessThan(1e-3);
      expect(relative(got.parts.content, want.parts.content)).toBeLessThan(1e-3);
      expect(relative(got.parts.style, want.parts.style)).toBeLessThan(1e-3);
      expect(relative(got.parts.tv, want.parts.tv)).toBeLessThan(1e-3);
      expect(relativeError(got.gradient, want.gradient)).toBeLessThan(1e-3);

      // The reused input tensor must not leak into earlier results.
      const first = got.gradient.slice();
      await objective.evaluate(randomImage(w, h).data);
      expect(got.gradient).toEqual(first);
      objective.dispose();
    });
  }
});

describe('ONNX evaluator', () => {
  const layers = { style: ['conv1_1', 'conv2_1'], content: ['conv2_1'] };
  const weights = randomVggWeights('conv2_1', 9, 1 / 16);

  it('builds one graph per layer set that stops at the deepest loss layer', () => {
    const counts = buildLossGraph(weights, layers, { pooling: 'avg', backward: 'conv' }).opCounts();
    // conv1_1, conv1_2, conv2_1 forward, and the same three input gradients.
    expect(counts.get('Conv')).toBe(6);
    expect(counts.get('AveragePool')).toBe(1);
    expect(deepestLayer([...layers.style, ...layers.content])).toBe('conv2_1');
    const transposed = buildLossGraph(weights, layers, {
      pooling: 'max',
      backward: 'conv-transpose',
    }).opCounts();
    expect([transposed.get('Conv'), transposed.get('ConvTranspose'), transposed.get('Equal')]).toEqual([
      3, 3, 1,
    ]);
    // No operation that GPU providers leave to the CPU on feature maps (onnx-webgpu.test.ts checks placement).
    for (const counts of [
      transposed,
      buildLossGraph(weights, layers, { pooling: 'avg', backward: 'conv' }).opCounts(),
    ]) {
      for (const op of ['Sum', 'Size', 'ScatterElements', 'ConstantOfShape'])
        expect(counts.get(op)).toBeUndefined();
    }
  });

  it('serves any image size from the same sessions', async () => {
    const evaluator = await createEvaluator({ backend: 'onnx', weights, layers });
    evaluators.push(evaluator);
    for (const [w, h] of [
      [9, 7],
      [16, 16],
      [5, 12],
    ] as const) {
      const targets = await evaluator.targets(randomImage(w, h), layers);
      expect(targets.content.get('conv2_1')!.length).toBe(Math.floor(w / 2) * Math.floor(h / 2) * 8);
      const objective = await evaluator.objective(w, h, lossTerms(targets, { content: 1, style: 1, tv: 1 }));
      const { loss, parts, gradient } = await objective.evaluate(randomImage(w, h).data);
      expect(loss).toBeCloseTo(parts.content + parts.style + parts.tv, 5);
      expect(gradient.length).toBe(w * h * 3);
      expect(gradient.every(Number.isFinite)).toBe(true);
      objective.dispose();
    }
  });

  it('gives overlapping evaluations their own inputs', async () => {
    const evaluator = await createEvaluator({ backend: 'onnx', weights, layers });
    evaluators.push(evaluator);
    const targets = await evaluator.targets(randomImage(9, 8), layers);
    const objective = await evaluator.objective(9, 8, lossTerms(targets, { content: 1, style: 1, tv: 1 }));
    const images = [randomImage(9, 8).data, randomImage(9, 8).data, randomImage(9, 8).data];
    const together = await Promise.all(images.map((x) => objective.evaluate(x)));
    for (const [i, x] of images.entries()) {
      const alone = await objective.evaluate(x);
      expect(together[i]!.loss).toBe(alone.loss);
      expect(together[i]!.gradient).toEqual(alone.gradient);
    }
    objective.dispose();
    await expect(objective.evaluate(images[0]!)).rejects.toThrow(/disposed/);
  });

  it('names what is wrong with bad targets, sizes and images', async () => {
    const evaluator = await createEvaluator({ backend: 'onnx', weights, layers });
    evaluators.push(evaluator);
    const targets = await evaluator.targets(randomImage(8, 6), layers);
    const terms = lossTerms(targets, { content: 1, style: 1, tv: 1 });
    await expect(evaluator.objective(10, 6, terms)).rejects.toThrow(
      /content target of conv2_1 has 96 values, expected 120 \(15 positions x 8 channels\)/,
    );
    await expect(evaluator.objective(1, 1, terms)).rejects.toThrow(
      /1x1 image is too small for layer conv2_1/,
    );
    const objective = await evaluator.objective(8, 6, terms);
    await expect(objective.evaluate(new Float32Array(5))).rejects.toThrow(/image has 5 values, expected 144/);
    objective.dispose();
    evaluator.dispose();
    await expect(evaluator.targets(randomImage(8, 6), layers)).rejects.toThrow(/disposed/);
  });
});
