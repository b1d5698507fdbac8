/**
 * The engine's public surface: `createEvaluator` picks a compute backend and loads the network a layer set
 * needs; `stylize` runs the optimisation on it. Nothing here knows about jobs, databases or chat.
 */

import type { Backend } from './backends.ts';
import type { Evaluator } from './evaluator.ts';
import { useTfjsBackend } from './tfjs/backend.ts';
import { TfjsEvaluator } from './tfjs/evaluator.ts';
import { deepestLayer, type LayerSet, loadVggWeights, type Pooling, type VggWeights } from './vgg.ts';

export { BACKENDS, type Backend } from './backends.ts';

export interface EvaluatorOptions {
  backend?: Backend | undefined;
  /** A weights directory, or weights already in memory (random ones in benchmarks and tests). */
  weights: string | VggWeights;
  layers: LayerSet;
  pooling?: Pooling | undefined;
}

/**
 * `auto` takes the first that starts of: TensorFlow.js on a GPU (`tensorflow-gpu`), ONNX Runtime's native
 * CPU kernels on every core (`onnx`), then TensorFlow.js's WASM and plain JavaScript backends.
 */
export async function createEvaluator(options: EvaluatorOptions): Promise<Evaluator> {
  const deepest = deepestLayer([...options.layers.style, ...options.layers.content]);
  const weights =
    typeof options.weights === 'string' ? await loadVggWeights(options.weights, deepest) : options.weights;
  const requested = options.backend ?? 'auto';
  const start = async (backend: Exclude<Backend, 'auto'>): Promise<Evaluator> => {
    if (backend === 'onnx') {
      // Loaded on demand: the native binding is only needed (and only has to load) when it is used.
      const { OnnxEvaluator } = await import('./onnx/evaluator.ts');
      return OnnxEvaluator.create(weights, options.layers, { pooling: options.pooling });
    }
    const { tf, backend: started } = await useTfjsBackend(backend);
    return new TfjsEvaluator(tf, started, weights, options.pooling);
  };
  if (requested !== 'auto') return start(requested);
  const failures: string[] = [];
  for (const backend of AUTO_ORDER) {
    try {
      return await start(backend);
    } catch (error) {
      failures.push(`${backend}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  throw new Error(`no compute backend could start (${failures.join('; ')})`);
}

/** What `auto` tries, fastest first; tfjs-node on the CPU is slower than ONNX Runtime, so it is not tried. */
const AUTO_ORDER = ['tensorflow-gpu', 'onnx', 'wasm', 'cpu'] as const satisfies readonly Backend[];

export type { Evaluation, Evaluator, Objective } from './evaluator.ts';
export { fitSize, type RgbImage, resize, rgbImage } from './image.ts';
export { DEFAULT_STRENGTH, type LossParts, type LossWeights, weightsFromStrength } from './losses.ts';
export type { OptimizerName } from './optimizers.ts';
export { type ConvergenceStop, DEFAULT_STOP, scaleSizes } from './schedule.ts';
export { type Progress, type StylizeRequest, type StylizeResult, stylize } from './stylize.ts';
export { LAYER_SETS, type LayerSet, type Pooling, randomVggWeights, resolveLayers } from './vgg.ts';
