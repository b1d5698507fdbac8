/**
 * The engine's public surface: `chooseBackend` finds where the network can run, `createEvaluator` starts a
 * compute backend and loads the network a layer set needs; `stylize` runs the optimisation on it. Nothing
 * here knows about jobs, databases or chat.
 */

import {
  AUTO_ORDER,
  type Backend,
  BackendUnavailable,
  type ConcreteBackend,
  errorLine,
  isOnnxBackend,
  type UnavailableCode,
} from './backends.ts';
import type { Evaluator } from './evaluator.ts';
import { deepestLayer, type LayerSet, loadVggWeights, type Pooling, type VggWeights } from './vgg.ts';

export {
  AUTO_ORDER,
  BACKENDS,
  type Backend,
  BackendUnavailable,
  type ConcreteBackend,
  type UnavailableCode,
} from './backends.ts';

export interface EvaluatorOptions {
  backend?: Backend | undefined;
  /** A weights directory, or weights already in memory (random ones in benchmarks and tests). */
  weights: string | VggWeights;
  layers: LayerSet;
  pooling?: Pooling | undefined;
  /** Threads of ONNX Runtime's CPU provider; default: every core. */
  threads?: number | undefined;
}

/** A backend `auto` passed over, and why. */
export interface SkippedBackend {
  backend: ConcreteBackend;
  code: UnavailableCode;
  /** A sentence for the operator, e.g. "… is a software adapter, slower than the CPU provider". */
  reason: string;
}

export interface BackendChoice {
  backend: ConcreteBackend;
  /** The device it runs on, as its driver names it. */
  device: string;
  /** A software adapter (WebGPU on lavapipe, llvmpipe, SwiftShader), used only when named. */
  software: boolean;
  /** With `auto`: the faster candidates that could not run here, in the order tried. */
  skipped: SkippedBackend[];
}

/**
 * Where the network will run. A named backend is checked (BackendUnavailable with the reason when it cannot
 * run here) and used even on a software adapter. `auto` takes the first of AUTO_ORDER that reaches a real
 * device: ONNX Runtime's CUDA provider only when a graph runs on the GPU, TensorFlow.js on CUDA only when
 * TensorFlow sees a GPU, WebGPU only on a hardware adapter; otherwise ONNX Runtime on the CPU. It never picks a
 * GPU build that would silently run on the CPU.
 */
export async function chooseBackend(
  requested: Backend = 'auto',
  options: { threads?: number | undefined } = {},
): Promise<BackendChoice> {
  const candidates: readonly ConcreteBackend[] = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: SkippedBackend[] = [];
  for (const backend of candidates) {
    try {
      const device = await findDevice(backend, options.threads);
      if (requested === 'auto' && device.software) {
        throw new BackendUnavailable(
          'software-adapter',
          `${device.name} is a software adapter, slower than the CPU provider (ask for ${backend} by name to use it)`,
        );
      }
      await device.check();
      return { backend, device: device.describe(), software: device.software, skipped };
    } catch (error) {
      if (requested !== 'auto') throw error;
      const code = error instanceof BackendUnavailable ? error.code : 'failed';
      skipped.push({ backend, code, reason: errorLine(error) });
    }
  }
  throw new Error(
    `no compute backend could start (${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})`,
  );
}

/** Starts the backend `chooseBackend` picks and loads the weights the layer set needs. */
export async function createEvaluator(options: EvaluatorOptions): Promise<Evaluator> {
  const { backend } = await chooseBackend(options.backend, { threads: options.threads });
  const deepest = deepestLayer([...options.layers.style, ...options.layers.content]);
  const weights =
    typeof options.weights === 'string' ? await loadVggWeights(options.weights, deepest) : options.weights;
  if (isOnnxBackend(backend)) {
    // Loaded on demand: the native binding is only needed (and only has to load) when it is used.
    const { OnnxEvaluator } = await import('./onnx/evaluator.ts');
    return OnnxEvaluator.create(weights, options.layers, {
      backend,
      pooling: options.pooling,
      threads: options.threads,
    });
  }
  const [{ useTfjsBackend }, { TfjsEvaluator }] = await Promise.all([
    import('./tfjs/backend.ts'),
    import('./tfjs/evaluator.ts'),
  ]);
  const { tf, device } = await useTfjsBackend(backend);
  return new TfjsEvaluator(tf, backend, device, weights, options.pooling);
}

/** The device a backend would use, and the check that it runs there (ONNX Runtime's check graph). */
async function findDevice(backend: ConcreteBackend, threads: number | undefined) {
  if (isOnnxBackend(backend)) {
    const onnx = await import('./onnx/providers.ts');
    const provider = onnx.EXECUTION_PROVIDERS[backend];
    const device = await onnx.findDevice(provider);
    return {
      ...device,
      describe: () => onnx.deviceName(provider, device, threads),
      check: () => onnx.checkOnDevice(provider),
    };
  }
  // TensorFlow.js's check (a GPU build must see a GPU) is part of starting it. Loaded on demand like ONNX
  // Runtime: its bundle takes seconds and tens of MB to load, which a process on ONNX Runtime never needs.
  const { useTfjsBackend } = await import('./tfjs/backend.ts');
  const { device } = await useTfjsBackend(backend);
  return { name: device, software: false, describe: () => device, check: async () => {} };
}

export type { Evaluation, Evaluator, Objective } from './evaluator.ts';
export { fitSize, type RgbImage, resize, rgbImage } from './image.ts';
export { DEFAULT_STRENGTH, type LossParts, type LossWeights, weightsFromStrength } from './losses.ts';
export type { OptimizerName } from './optimizers.ts';
export { type ConvergenceStop, DEFAULT_STOP, scaleSizes } from './schedule.ts';
export {
  type Progress,
  resultImage,
  type StylizeRequest,
  type StylizeResult,
  stylize,
} from './stylize.ts';
export { DEFAULT_TIMELAPSE, type TimelapseFrame, type TimelapseOptions } from './timelapse.ts';
export { LAYER_SETS, type LayerSet, type Pooling, randomVggWeights, resolveLayers } from './vgg.ts';
