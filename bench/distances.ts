/**
 * How far a painting is from the photo and from the painting's style, in units a person can judge, on the
 * paper's layers of the real VGG-19 (Gatys et al. 2016: style conv1_1…conv5_1, content conv4_2):
 *
 *   style   = Σ_l ‖G_l(result) − G_l(painting)‖² / ‖G_l(painting)‖²   over the style layers,
 *             divided by the same sum for the photo itself (1: no more the painting's than the photo is; 0: its
 *             Gram matrices are the painting's);
 *   content = ‖F(result) − F(photo)‖² / ‖F(photo)‖²   at conv4_2,
 *             divided by the same for seeded white noise (0: the photo; 1: the photo as lost as in noise).
 *
 * A member recognises their photo below about 0.5 of noise's content distance and sees the painting's style
 * below about 0.2 of the photo's style distance. Unlike the optimiser's loss these do not depend on the
 * strength's weights, so results at different strengths, or from different layer sets, compare directly.
 */
import type { Evaluator } from '../engine/evaluator.ts';
import { fitSize, type RgbImage, resize, rgbImage } from '../engine/image.ts';
import { mulberry32 } from '../engine/random.ts';
import { LAYER_SETS, type LayerSet } from '../engine/vgg.ts';

/** The layers the distances are measured at: the paper's, whatever layers painted the result. */
export const JUDGE_LAYERS: LayerSet = {
  style: [...LAYER_SETS.paper.style],
  content: [...LAYER_SETS.paper.content],
};

export interface Distances {
  /** Summed relative Gram error to the painting, ÷ the photo's own. */
  style: number;
  /** Relative conv4_2 error to the photo, ÷ that of white noise. */
  content: number;
}

/**
 * The distances of `result` (any size) from `photo` and `painting`, both resized as the driver resizes them for
 * a result of this size (the painting's longer side equal to the result's). `evaluator` must hold the network up
 * to conv5_1 (weights such as ../shared/assets/vgg19-conv1-5).
 */
export async function distances(
  evaluator: Evaluator,
  { result, photo, painting }: { result: RgbImage; photo: RgbImage; painting: RgbImage },
): Promise<Distances> {
  const { width, height } = result;
  const at = fitSize(painting.width, painting.height, Math.max(width, height));
  const [x, content, style, noisy] = await Promise.all([
    evaluator.targets(result, JUDGE_LAYERS),
    evaluator.targets(resize(photo, width, height), JUDGE_LAYERS),
    evaluator.targets(resize(painting, at.width, at.height), { content: [], style: JUDGE_LAYERS.style }),
    evaluator.targets(whiteNoise(width, height), { content: JUDGE_LAYERS.content, style: [] }),
  ]);
  const styleError = (of: typeof x) =>
    JUDGE_LAYERS.style.reduce((sum, l) => sum + relativeError(of.style.get(l)!, style.style.get(l)!), 0);
  const contentError = (of: typeof x) =>
    JUDGE_LAYERS.content.reduce(
      (sum, l) => sum + relativeError(of.content.get(l)!, content.content.get(l)!),
      0,
    );
  return { style: styleError(x) / styleError(content), content: contentError(x) / contentError(noisy) };
}

/** ‖a − b‖² / ‖b‖². */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  return diff / Math.max(norm, 1e-30);
}

/** Uniform noise in 0-255, the same for every call of one size. */
function whiteNoise(width: number, height: number): RgbImage {
  const random = mulberry32(1);
  return rgbImage(
    width,
    height,
    Float32Array.from({ length: width * height * 3 }, () => 255 * random()),
  );
}
