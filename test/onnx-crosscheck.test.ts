import { afterAll, describe, expect, it } from 'vitest';
import type { Evaluator } from '../engine/evaluator.ts';
import { createEvaluator, randomVggWeights } from '../engine/index.ts';
import { lossTerms } from '../engine/losses.ts';
import { OnnxEvaluator } from '../engine/onnx/evaluator.ts';
import { buildLossGraph } from '../engine/onnx/graph.ts';
import { deepestLayer } from '../engine/vgg.ts';
import { EVALUATOR_CASES, expectSameEvaluations, randomImages } from './compare.ts';

/**
 * The ONNX Runtime evaluator's explicit backward graph against TensorFlow.js's autodiff (the `cpu` backend,
 * plain JavaScript, as the reference): targets, loss, parts and gradient agree to 1e-3.
 */

const randomImage = randomImages(11);

const evaluators: Evaluator[] = [];
afterAll(() => {
  for (const e of evaluators) e.dispose();
});

describe('ONNX evaluator against TensorFlow.js', () => {
  for (const c of EVALUATOR_CASES) {
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

      const { objective, gradient } = await expectSameEvaluations(onnx, reference, c, randomImage, 1e-3);

      // The reused input tensor must not leak into earlier results.
      const first = gradient.slice();
      await objective.evaluate(randomImage(...c.size).data);
      expect(gradient).toEqual(first);
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
