/**
 * The loss definitions, in one place for every evaluator and test.
 *
 * With F a layer's feature map (C channels × M = H·W positions) and its Gram matrix G = F Fᵀ / M:
 *   content = Σ_l  c_l · mean((F_x − F_c)²)        over the content layers
 *   style   = Σ_l  s_l · mean((G_x − G_s)²)        over the style layers
 *   tv      = t · (mean(Δx²) + mean(Δy²))           squared neighbour differences of the image (0-255)
 *   total   = content + style + tv
 * Evaluators compute exactly these sums; everything else (the user's weights, per-layer weights and the
 * per-layer normalisation) is folded into the coefficients c_l, s_l and t here.
 *
 * Normalisation: each layer's term is divided by the mean square of its own target, so every term is a
 * relative error (about 1 for an unrelated image) whatever the layer's depth, the network's weights or the
 * image size. What is left, how strongly each layer set's terms pull against each other, is STRENGTH_SCALES'.
 */

import { deepestLayer, type LayerSet, type LayerSetName, poolsBefore } from './vgg.ts';

export interface LossWeights {
  /** α: weight of the content term. */
  content: number;
  /** β: weight of the style term. */
  style: number;
  /** Weight of the total-variation smoothness term. */
  tv: number;
  /** Relative weight of each style layer (default: equal); normalised to sum to 1. */
  styleLayers?: Readonly<Record<string, number>> | undefined;
}

/** Target values of one image at the content layers (feature maps) and style layers (Gram matrices). */
export interface Targets {
  content: Map<string, Float32Array>;
  style: Map<string, Float32Array>;
}

export interface LossTerm {
  layer: string;
  /** Content: the feature map (H·W·C, HWC order). Style: the Gram matrix (C·C). */
  target: Float32Array;
  /** Coefficient multiplying mean((x − target)²). */
  weight: number;
}

export interface LossTerms {
  content: LossTerm[];
  style: LossTerm[];
  /** Coefficient multiplying mean(Δx²) + mean(Δy²). */
  tv: number;
}

export interface LossParts {
  content: number;
  style: number;
  tv: number;
}

/** Gram matrix scale: G = F Fᵀ · gramScale(M). */
export const gramScale = (positions: number): number => 1 / positions;

/** Keeps an all-zero target (a dead layer, a black image) from dividing by zero. */
const EPSILON = 1e-8;

/** Pixel values are 0-255: dividing by 255² makes the TV term a fraction like the others. */
const TV_SCALE = 1 / (255 * 255);

export function lossTerms(targets: Targets, weights: LossWeights): LossTerms {
  const contentLayers = [...targets.content.keys()];
  const styleLayers = [...targets.style.keys()];
  const raw = styleLayers.map((l) => weights.styleLayers?.[l] ?? 1);
  const rawSum = raw.reduce((a, b) => a + b, 0) || 1;
  return {
    content: contentLayers.map((layer) => {
      const target = targets.content.get(layer)!;
      return {
        layer,
        target,
        weight: weights.content / contentLayers.length / (meanSquare(target) + EPSILON),
      };
    }),
    style: styleLayers.map((layer, i) => {
      const target = targets.style.get(layer)!;
      return { layer, target, weight: (weights.style * raw[i]!) / rawSum / (meanSquare(target) + EPSILON) };
    }),
    tv: weights.tv * TV_SCALE,
  };
}

/**
 * `strength` 0-100 for members: 0 leaves the photo nearly as it is, 50 is the balanced default, 100 paints the
 * painting's texture with the photo barely visible, in steps even to the eye. The style/content ratio grows
 * geometrically with it, from the layer set's own ratio at 50 by the set's own factor per 25 points (see
 * STRENGTH_SCALE), so that a number paints the same balance whichever layers a worker paints with.
 */
export const DEFAULT_STRENGTH = 50;

/**
 * The loss weights a strength paints with on `layers`; `ratio` replaces the layer set's style/content ratio at
 * strength 50 (for a bench that tunes it). Throws when the strength is outside 0-100.
 */
export function weightsFromStrength(
  strength: number,
  layers: LayerSet,
  ratio = strengthScale(layers).ratio,
): LossWeights {
  if (!(strength >= 0 && strength <= 100))
    throw new Error(`strength must be between 0 and 100, got ${strength}`);
  const { per25 } = strengthScale(layers);
  return { content: 1, style: ratio * per25 ** ((strength - 50) / 25), tv: DEFAULT_TV };
}

interface StrengthScale {
  /** Style/content ratio at strength 50. */
  ratio: number;
  /** Factor of the ratio per 25 points of strength. */
  per25: number;
}

/**
 * Each layer set's scale. A custom layer set takes that of the named set whose deepest block it reaches
 * (blocks 1-3: shallow).
 *
 * paper: measured on the real VGG-19 with `npm run bench -- --strength-scale` (docs/paper-network.md), judged by
 * the distances of bench/distances.ts (style ÷ the photo's Gram distance, content ÷ white noise's conv4_2
 * distance). A ratio of 5 is balanced for The Starry Night, The Scream and The Shipwreck of the Minotaur
 * (content about 0.4 of noise's, style about 0.12 of the photo's); below about 3 the style is faint (over 0.2),
 * above about 9 the photo fades (over 0.5). A factor of √10 per 25 points gives even steps in both distances,
 * from the photo nearly untouched at 0 (ratio 0.5: content 0.04) to the painting's texture at 100 (ratio 50:
 * content 1.0, the photo as lost as in noise, with only the layout left).
 *
 * shallow: tuned by eye on the real blocks 1-3 at 256 px: at a ratio of 5 the style was a faint texture in the
 * sky; at 50 each painting's palette and strokes are clear and the photo stays recognisable.
 */
const STRENGTH_SCALES: Record<LayerSetName, StrengthScale> = {
  paper: { ratio: 5, per25: Math.sqrt(10) },
  shallow: { ratio: 50, per25: 10 },
};

function strengthScale(layers: LayerSet): StrengthScale {
  const deepest = deepestLayer([...layers.style, ...layers.content]);
  return STRENGTH_SCALES[poolsBefore(deepest) <= 2 ? 'shallow' : 'paper'];
}
const DEFAULT_TV = 1;

/** Blends several styles' Gram matrices by weight (the weights need not sum to 1). */
export function blendStyles(
  styles: { grams: Map<string, Float32Array>; weight: number }[],
): Map<string, Float32Array> {
  const total = styles.reduce((a, s) => a + s.weight, 0);
  if (!(total > 0)) throw new Error('style blend weights must be positive');
  const out = new Map<string, Float32Array>();
  for (const { grams, weight } of styles) {
    for (const [layer, gram] of grams) {
      const acc = out.get(layer) ?? new Float32Array(gram.length);
      for (let i = 0; i < gram.length; i++) acc[i]! += (weight / total) * gram[i]!;
      out.set(layer, acc);
    }
  }
  return out;
}

function meanSquare(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return sum / Math.max(1, values.length);
}
