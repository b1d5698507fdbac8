/**
 * The engine's public surface: `createEvaluator` picks a compute backend and loads the network a layer set
 * needs; `stylize` runs the optimisation on it. Nothing here knows about jobs, databases or chat.
 */
import type { Evaluator } from './evaluator.ts';
import { type TfjsBackend, useTfjsBackend } from './tfjs/backend.ts';
import { TfjsEvaluator } from './tfjs/evaluator.ts';
import { deepestLayer, type LayerSet, loadVggWeights, type Pooling, type VggWeights } from './vgg.ts';

export type Backend = TfjsBackend | 'auto';

export interface EvaluatorOptions {
  backend?: Backend | undefined;
  /** A weights directory, or weights already in memory (random ones in benchmarks and tests). */
  weights: string | VggWeights;
  layers: LayerSet;
  pooling?: Pooling | undefined;
}

export async function createEvaluator(options: EvaluatorOptions): Promise<Evaluator> {
  const deepest = deepestLayer([...options.layers.style, ...options.layers.content]);
  const weights =
    typeof options.weights === 'string' ? await loadVggWeights(options.weights, deepest) : options.weights;
  const { tf, backend } = await useTfjsBackend(options.backend ?? 'auto');
  return new TfjsEvaluator(tf, backend, weights, options.pooling);
}

export type { Evaluation, Evaluator, Objective } from './evaluator.ts';
export { fitSize, type RgbImage, resize, rgbImage } from './image.ts';
export { type LossParts, type LossWeights, weightsFromStrength } from './losses.ts';
export type { OptimizerName } from './optimizers.ts';
export { type Progress, type StylizeRequest, type StylizeResult, scaleSizes, stylize } from './stylize.ts';
export { LAYER_SETS, type LayerSet, type Pooling, randomVggWeights, resolveLayers } from './vgg.ts';
