import { expect } from 'vitest';
import type { Evaluator, Objective } from '../engine/evaluator.ts';
import { type RgbImage, rgbImage } from '../engine/image.ts';
import { lossTerms } from '../engine/losses.ts';
import { mulberry32 } from '../engine/random.ts';
import {
  type LayerSet,
  loadVggWeights,
  type Pooling,
  randomVggWeights,
  type VggWeights,
} from '../engine/vgg.ts';
import { PAPER_WEIGHTS, SHALLOW_WEIGHTS } from './assets.ts';

/** How the evaluator tests compare two backends: the cases, and the measures of their difference. */

/** ‖a − b‖ / ‖b‖. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** |a − b| / |b|. */
export const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** A source of seeded random images, values 0-255. */
export function randomImages(seed: number): (w: number, h: number) => RgbImage {
  const random = mulberry32(seed);
  return (w, h) =>
    rgbImage(
      w,
      h,
      Float32Array.from({ length: w * h * 3 }, () => 255 * random()),
    );
}

export interface EvaluatorCase {
  name: string;
  weights: () => Promise<VggWeights> | VggWeights;
  layers: LayerSet;
  pooling: Pooling;
  size: [number, number];
  styleSize: [number, number];
  backward?: 'conv' | 'conv-transpose';
}

/**
 * Networks, layers, pooling and odd image sizes on which two evaluators must agree; `backward` picks how the
 * ONNX graph computes convolution input gradients (default 'conv').
 */
export const EVALUATOR_CASES: EvaluatorCase[] = [
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
  {
    name: 'the real whole VGG-19 with the paper layers at 40x33',
    weights: () => loadVggWeights(PAPER_WEIGHTS, 'conv5_1'),
    layers: { style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'], content: ['conv4_2'] },
    pooling: 'avg',
    size: [40, 33],
    styleSize: [36, 38],
  },
];

/**
 * Expects `actual` to give `reference`'s targets (feature maps, Gram matrices), loss, parts and gradient on
 * random images of the case's sizes, each within `tolerance` (relative error). Both objectives get the
 * reference's targets: either evaluator must accept the other's (or a cache's). Returns `actual`'s objective
 * and what it evaluated, for further checks.
 */
export async function expectSameEvaluations(
  actual: Evaluator,
  reference: Evaluator,
  c: EvaluatorCase,
  randomImage: (w: number, h: number) => RgbImage,
  tolerance: number,
): Promise<{ objective: Objective; gradient: Float32Array }> {
  const [w, h] = c.size;
  const content = randomImage(w, h);
  const style = randomImage(...c.styleSize);
  const contentLayers = { content: c.layers.content, style: [] };
  const styleLayers = { content: [], style: c.layers.style };
  const expected = {
    content: (await reference.targets(content, contentLayers)).content,
    style: (await reference.targets(style, styleLayers)).style,
  };
  const got = {
    content: (await actual.targets(content, contentLayers)).content,
    style: (await actual.targets(style, styleLayers)).style,
  };
  for (const layer of c.layers.content)
    expect(relativeError(got.content.get(layer)!, expected.content.get(layer)!)).toBeLessThan(tolerance);
  for (const layer of c.layers.style)
    expect(relativeError(got.style.get(layer)!, expected.style.get(layer)!)).toBeLessThan(tolerance);

  const terms = lossTerms(expected, { content: 1, style: 10, tv: 1 });
  const x = randomImage(w, h).data;
  const want = await (await reference.objective(w, h, terms)).evaluate(x);
  const objective = await actual.objective(w, h, terms);
  const result = await objective.evaluate(x);
  expect(want.parts.content).toBeGreaterThan(0);
  expect(want.parts.style).toBeGreaterThan(0);
  expect(relative(result.loss, want.loss)).toBeLessThan(tolerance);
  for (const part of ['content', 'style', 'tv'] as const)
    expect(relative(result.parts[part], want.parts[part])).toBeLessThan(tolerance);
  expect(relativeError(result.gradient, want.gradient)).toBeLessThan(tolerance);
  return { objective, gradient: result.gradient };
}
