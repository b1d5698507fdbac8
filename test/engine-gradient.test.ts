import { describe, expect, it } from 'vitest';
import { createEvaluator, randomVggWeights, rgbImage } from '../engine/index.ts';
import { lossTerms } from '../engine/losses.ts';
import { mulberry32 } from '../engine/random.ts';
import { loadVggWeights } from '../engine/vgg.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';

const random = mulberry32(7);
const randomImage = (w: number, h: number) =>
  rgbImage(
    w,
    h,
    Float32Array.from({ length: w * h * 3 }, () => 255 * random()),
  );

describe('loss gradient', () => {
  for (const pooling of ['avg', 'max'] as const) {
    it(`equals finite differences on a tiny random VGG-shaped net (${pooling} pooling)`, async () => {
      const layers = { style: ['conv1_1', 'conv2_1', 'conv3_1'], content: ['conv2_2'] };
      const evaluator = await createEvaluator({
        backend: 'cpu',
        weights: randomVggWeights('conv3_1', 3, 1 / 16),
        layers,
        pooling,
      });
      const [w, h] = [12, 10];
      const content = await evaluator.targets(randomImage(w, h), { content: layers.content, style: [] });
      const style = await evaluator.targets(randomImage(9, 11), { content: [], style: layers.style });
      const terms = lossTerms(
        { content: content.content, style: style.style },
        { content: 1, style: 10, tv: 1 },
      );
      const objective = await evaluator.objective(w, h, terms);
      const x = randomImage(w, h).data;
      const { loss, parts, gradient } = await objective.evaluate(x);
      expect(loss).toBeCloseTo(parts.content + parts.style + parts.tv, 4);
      expect(parts.content).toBeGreaterThan(0);
      expect(parts.style).toBeGreaterThan(0);
      // Directional derivatives along random directions: g·d against (f(x+εd) − f(x−εd)) / 2ε.
      for (let k = 0; k < 4; k++) {
        const d = Float32Array.from(x, () => random() - 0.5);
        const eps = 0.5;
        const plus = await objective.evaluate(x.map((v, i) => v + eps * d[i]!));
        const minus = await objective.evaluate(x.map((v, i) => v - eps * d[i]!));
        const numeric = (plus.loss - minus.loss) / (2 * eps);
        const analytic = gradient.reduce((s, g, i) => s + g * d[i]!, 0);
        expect(Math.abs(numeric - analytic) / Math.abs(analytic)).toBeLessThan(2e-2);
      }
      objective.dispose();
      evaluator.dispose();
    });
  }
});

describe('weights', () => {
  it('loads the real shallow VGG-19 weights and names a missing layer', async () => {
    const weights = await loadVggWeights(SHALLOW_WEIGHTS, 'conv3_4');
    const conv1 = weights.get('conv1_1')!;
    expect([conv1.inChannels, conv1.outChannels]).toEqual([3, 64]);
    // The README's sanity value for block1_conv1's biases.
    expect(Array.from(conv1.bias.slice(0, 3)).map((v) => Number(v.toFixed(4)))).toEqual([
      0.7302, 0.0649, 0.0343,
    ]);
    expect(weights.get('conv3_4')!.inChannels).toBe(256);
    await expect(loadVggWeights(SHALLOW_WEIGHTS, 'conv5_1')).rejects.toThrow(
      /conv4_1 \(block4_conv1\) is not in the weights/,
    );
  });
});
