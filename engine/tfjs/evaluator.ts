import type { Evaluation, Evaluator, Objective } from '../evaluator.ts';
import type { RgbImage } from '../image.ts';
import { gramScale, type LossTerms, type Targets } from '../losses.ts';
import {
  deepestLayer,
  IMAGENET_MEAN_BGR,
  type LayerSet,
  networkUpTo,
  type Pooling,
  type VggWeights,
} from '../vgg.ts';
import type { Tf } from './backend.ts';

type Tensor = ReturnType<Tf['tensor']>;
type Tensor4D = ReturnType<Tf['tensor4d']>;

/**
 * The losses of losses.ts on VGG-19 in TensorFlow.js, with gradients by autodiff. Weight tensors are made
 * once per evaluator; every evaluation runs inside tidy() so nothing outlives it but its results.
 */
export class TfjsEvaluator implements Evaluator {
  readonly backend: string;
  readonly device: string;
  readonly #tf: Tf;
  readonly #kernels = new Map<string, { kernel: Tensor4D; bias: Tensor }>();
  readonly #pooling: Pooling;
  readonly #mean: Tensor;

  constructor(tf: Tf, backend: string, device: string, weights: VggWeights, pooling: Pooling = 'avg') {
    this.#tf = tf;
    this.backend = backend;
    this.device = device;
    this.#pooling = pooling;
    for (const [layer, w] of weights) {
      this.#kernels.set(layer, {
        kernel: tf.tensor4d(w.kernel, [3, 3, w.inChannels, w.outChannels]),
        bias: tf.tensor1d(w.bias),
      });
    }
    this.#mean = tf.tensor1d([...IMAGENET_MEAN_BGR]);
  }

  async targets(image: RgbImage, layers: LayerSet): Promise<Targets> {
    const tf = this.#tf;
    const wanted = [...layers.content, ...layers.style];
    const results = tf.tidy(() => {
      const x = tf.tensor4d(image.data, [1, image.height, image.width, 3]);
      const features = this.#features(x, wanted);
      return {
        content: layers.content.map((l) => tf.reshape(features.get(l)!, [-1])),
        style: layers.style.map((l) => this.#gram(features.get(l)!)),
      };
    });
    const read = async (tensors: Tensor[], names: string[]) => {
      const out = new Map<string, Float32Array>();
      for (const [i, t] of tensors.entries()) out.set(names[i]!, (await t.data()) as Float32Array);
      tf.dispose(tensors);
      return out;
    };
    return {
      content: await read(results.content, layers.content),
      style: await read(results.style, layers.style),
    };
  }

  async objective(width: number, height: number, terms: LossTerms): Promise<Objective> {
    const tf = this.#tf;
    const targets = {
      content: terms.content.map((t) => ({ ...t, target: tf.tensor1d(t.target) })),
      style: terms.style.map((t) => ({ ...t, target: tf.tensor1d(t.target) })),
    };
    const layers = [...terms.content, ...terms.style].map((t) => t.layer);
    const lossParts = (x: Tensor4D) => {
      const features = this.#features(x, layers);
      const sum = (parts: Tensor[]) => (parts.length ? tf.addN(parts) : tf.scalar(0));
      const content = sum(
        targets.content.map((t) =>
          tf.mul(tf.mean(tf.squaredDifference(tf.reshape(features.get(t.layer)!, [-1]), t.target)), t.weight),
        ),
      );
      const style = sum(
        targets.style.map((t) =>
          tf.mul(tf.mean(tf.squaredDifference(this.#gram(features.get(t.layer)!), t.target)), t.weight),
        ),
      );
      const tv = tf.mul(totalVariation(tf, x), terms.tv);
      return { content, style, tv };
    };
    // The parts are kept from inside the taped function so one forward pass yields loss, parts and gradient.
    let parts: Tensor | undefined;
    const gradient = tf.valueAndGrad((x: Tensor4D) => {
      const p = lossParts(x);
      parts = tf.keep(tf.stack([p.content, p.style, p.tv]));
      return tf.addN([p.content, p.style, p.tv]);
    });
    return {
      evaluate: async (image: Float32Array): Promise<Evaluation> => {
        const { value, grad } = tf.tidy(() => gradient(tf.tensor4d(image, [1, height, width, 3])));
        const kept = parts!;
        const [loss] = await value.data();
        const gradientData = (await grad.data()) as Float32Array;
        const [content, style, tv] = await kept.data();
        tf.dispose([value, grad, kept]);
        return { loss: loss!, parts: { content: content!, style: style!, tv: tv! }, gradient: gradientData };
      },
      dispose: () => {
        tf.dispose([...targets.content, ...targets.style].map((t) => t.target));
      },
    };
  }

  dispose(): void {
    for (const { kernel, bias } of this.#kernels.values()) this.#tf.dispose([kernel, bias]);
    this.#kernels.clear();
    this.#mean.dispose();
  }

  /** RGB 0-255 → BGR minus the ImageNet mean → VGG-19 up to the deepest wanted layer. */
  #features(rgb: Tensor4D, layers: string[]): Map<string, Tensor4D> {
    const tf = this.#tf;
    let x = tf.sub(tf.reverse(rgb, 3), this.#mean) as Tensor4D;
    const out = new Map<string, Tensor4D>();
    for (const op of networkUpTo(deepestLayer(layers))) {
      if (op.kind === 'pool') {
        x = this.#pooling === 'avg' ? tf.avgPool(x, 2, 2, 'valid') : tf.maxPool(x, 2, 2, 'valid');
        continue;
      }
      const w = this.#kernels.get(op.layer);
      if (!w) throw new Error(`layer ${op.layer} is not in the loaded weights`);
      x = tf.relu(tf.add(tf.conv2d(x, w.kernel, 1, 'same'), w.bias));
      if (layers.includes(op.layer)) out.set(op.layer, x);
    }
    return out;
  }

  /** G = Fᵀ F / M with F the feature map as M positions × C channels. */
  #gram(features: Tensor4D): Tensor {
    const tf = this.#tf;
    const [, h, w, c] = features.shape;
    const f = tf.reshape(features, [h * w, c]);
    return tf.reshape(tf.mul(tf.matMul(f, f, true, false), gramScale(h * w)), [-1]);
  }
}

/** mean(Δx²) + mean(Δy²) over the image's horizontal and vertical neighbour differences. */
function totalVariation(tf: Tf, x: Tensor4D): Tensor {
  const [, h, w] = x.shape;
  const parts: Tensor[] = [];
  if (w > 1)
    parts.push(
      tf.mean(
        tf.squaredDifference(
          tf.slice(x, [0, 0, 1, 0], [-1, -1, w - 1, -1]),
          tf.slice(x, [0, 0, 0, 0], [-1, -1, w - 1, -1]),
        ),
      ),
    );
  if (h > 1)
    parts.push(
      tf.mean(
        tf.squaredDifference(
          tf.slice(x, [0, 1, 0, 0], [-1, h - 1, -1, -1]),
          tf.slice(x, [0, 0, 0, 0], [-1, h - 1, -1, -1]),
        ),
      ),
    );
  return parts.length ? tf.addN(parts) : tf.scalar(0);
}
