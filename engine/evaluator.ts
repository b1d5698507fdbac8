import type { RgbImage } from './image.ts';
import type { LossParts, LossTerms, Targets } from './losses.ts';
import type { LayerSet } from './vgg.ts';

/** Total loss, its parts and the gradient with respect to the image, for one image. */
export interface Evaluation {
  loss: number;
  parts: LossParts;
  /** d loss / d pixel, same layout as the image (HWC RGB). */
  gradient: Float32Array;
}

/** The loss function at one image size, with its targets fixed. */
export interface Objective {
  /** `image`: HWC RGB values in 0-255 (unclamped: the optimiser may step outside). */
  evaluate(image: Float32Array): Promise<Evaluation>;
  dispose(): void;
}

/**
 * What the optimiser needs from a compute backend. The TensorFlow.js evaluator derives gradients by
 * autodiff; the ONNX Runtime one runs an explicit backward graph. Both implement the losses of losses.ts.
 */
export interface Evaluator {
  /** The backend actually running, e.g. "onnx", "onnx-webgpu", "tensorflow", "wasm", "cpu". */
  readonly backend: string;
  /** What it runs on, as the runtime or driver names it, e.g. "NVIDIA L4", "AMD EPYC 7B13, 2 threads". */
  readonly device: string;
  /** Feature maps at `layers.content` and Gram matrices at `layers.style` of one image. */
  targets(image: RgbImage, layers: LayerSet): Promise<Targets>;
  objective(width: number, height: number, terms: LossTerms): Promise<Objective>;
  dispose(): void;
}
