import { deepestLayer, type LayerSet, type Pooling, type VggWeights } from '../vgg.ts';
import { GraphBuilder } from './builder.ts';
import { backwardOp, type ConvBackward, forward } from './network.ts';

/**
 * The ONNX graphs of the ONNX Runtime evaluator, built in memory from the weights:
 *
 * Loss graph (one per weights, loss layers and pooling; H and W are dynamic):
 *   inputs   image                  [1, H, W, 3]   RGB 0-255
 *            content_target_<l>     [C_l, M_l]     the feature map, channels first (M_l = h·w)
 *            content_scale_<l>      []             c_l / (C_l·M_l): the weight over the mean's count
 *            style_target_<l>       [C_l, C_l]     the Gram matrix
 *            style_weight_<l>       []             s_l
 *            gram_scale_<l>         []             gramScale(M_l), from losses.ts
 *            tv_scale_x, tv_scale_y []             t / count of horizontal (vertical) differences
 *   outputs  loss [], parts [3] (content, style, tv), gradient [1, H, W, 3]
 * The forward pass stops at the deepest loss layer; the backward pass is written out operation by
 * operation (see network.ts), adding each loss layer's gradient in as it passes that layer.
 *
 * The one graph serves every execution provider, so it keeps to operations that GPU providers run on the
 * device: counts that depend on the image size come in as inputs (a Size node would run on the CPU and
 * copy its whole input there), gradients are added pairwise (WebGPU has no Sum kernel), and the max-pooling
 * gradient is a mask rather than a scatter through int64 indices (see network.ts). What stays on the CPU is
 * arithmetic on shapes, which GPU providers keep in host memory anyway.
 *
 * Targets graph (one per requested layers): image and gram_scale_<l> in; content_<l> (the feature map,
 * flat HWC) and style_<l> (the Gram matrix, flat C·C) out.
 */

export interface LossGraphOptions {
  pooling: Pooling;
  backward: ConvBackward;
}

export const inputNames = {
  image: 'image',
  contentTarget: (layer: string) => `content_target_${layer}`,
  contentScale: (layer: string) => `content_scale_${layer}`,
  styleTarget: (layer: string) => `style_target_${layer}`,
  styleWeight: (layer: string) => `style_weight_${layer}`,
  gramScale: (layer: string) => `gram_scale_${layer}`,
  tvScale: (axis: 'x' | 'y') => `tv_scale_${axis}`,
} as const;

export const outputNames = {
  loss: 'loss',
  parts: 'parts',
  gradient: 'gradient',
  content: (layer: string) => `content_${layer}`,
  style: (layer: string) => `style_${layer}`,
} as const;

export function buildLossGraph(
  weights: VggWeights,
  layers: LayerSet,
  options: LossGraphOptions,
): GraphBuilder {
  const g = new GraphBuilder('stylize_loss');
  const image = g.input(inputNames.image, [1, 'H', 'W', 3]);
  // Loss terms, and each one's gradient with respect to its layer's activation, built as the forward pass
  // reaches each layer: the Gram matrix and its gradient then read the activation while it is still in the
  // caches rather than after the deeper layers have evicted it.
  const contentTerms: string[] = [];
  const styleTerms: string[] = [];
  const layerGradients = new Map<string, string[]>();
  const addGradient = (layer: string, grad: string) =>
    layerGradients.set(layer, [...(layerGradients.get(layer) ?? []), grad]);
  const lossTermsAt = (layer: string, activation: string) => {
    if (layers.content.includes(layer)) {
      const { term, grad } = contentLoss(g, activation, layer, channels(weights, layer));
      contentTerms.push(term);
      addGradient(layer, grad);
    }
    if (layers.style.includes(layer)) {
      const { term, grad } = styleLoss(g, activation, layer, channels(weights, layer));
      styleTerms.push(term);
      addGradient(layer, grad);
    }
  };
  const net = forward(
    g,
    image,
    weights,
    deepestLayer([...layers.content, ...layers.style]),
    options.pooling,
    options.backward,
    lossTermsAt,
  );
  const tv = totalVariation(g, image);

  // Backward through the network, from the deepest layer (which always carries a loss) to the image.
  let grad: string | undefined;
  for (const op of [...net.ops].reverse()) {
    if (op.kind === 'conv') {
      const terms = [...(grad ? [grad] : []), ...(layerGradients.get(op.layer) ?? [])];
      grad = terms.length > 0 ? add(g, terms) : undefined;
    }
    if (!grad) continue;
    grad = backwardOp(g, op, grad, options.backward);
  }
  if (!grad) throw new Error('the loss graph has no loss layer');
  // The network's gradient is NCHW with respect to the mean-subtracted input; the mean's gradient is 0.
  const gradient = g.op('Add', [g.op('Transpose', [grad], { perm: [0, 2, 3, 1] }), tv.grad]);

  const sum = (terms: string[]) => (terms.length === 0 ? g.scalar(0) : add(g, terms));
  const parts = g.op(
    'Concat',
    [sum(contentTerms), sum(styleTerms), tv.term].map((t) => g.op('Unsqueeze', [t, g.ints([0])])),
    { axis: 0 },
  );
  g.output(outputNames.parts, parts, [3]);
  g.output(outputNames.loss, g.op('ReduceSum', [parts], { keepdims: 0 }), []);
  g.output(outputNames.gradient, gradient, [1, 'H', 'W', 3]);
  return g;
}

export function buildTargetsGraph(weights: VggWeights, layers: LayerSet, pooling: Pooling): GraphBuilder {
  const g = new GraphBuilder('stylize_targets');
  const image = g.input(inputNames.image, [1, 'H', 'W', 3]);
  const net = forward(g, image, weights, deepestLayer([...layers.content, ...layers.style]), pooling);
  for (const layer of layers.content) {
    const nhwc = g.op('Transpose', [net.activations.get(layer)!], { perm: [0, 2, 3, 1] });
    g.output(outputNames.content(layer), g.op('Reshape', [nhwc, g.ints([-1])]), [`N_${layer}`]);
  }
  for (const layer of layers.style) {
    const c = channels(weights, layer);
    const { gram } = gramMatrix(g, net.activations.get(layer)!, layer, c);
    g.output(outputNames.style(layer), g.op('Reshape', [gram, g.ints([-1])]), [c * c]);
  }
  return g;
}

/**
 * content_l = c · mean((F − T)²) over N = C·M values = k·Σ(F − T)² with k = c/N (an input);
 * d/dF = 2k·(F − T). F is the activation as [C, M], and so is the target (the evaluator transposes it once
 * per objective, not once per evaluation).
 */
function contentLoss(g: GraphBuilder, activation: string, layer: string, c: number) {
  const features = g.op('Reshape', [activation, g.ints([c, -1])]);
  const target = g.input(inputNames.contentTarget(layer), [c, `M_${layer}`]);
  const diff = g.op('Sub', [features, target]);
  const k = g.input(inputNames.contentScale(layer), []);
  const term = g.op('Mul', [g.op('ReduceSumSquare', [diff], { keepdims: 0 }), k]);
  const gradFeatures = g.op('Mul', [diff, g.op('Mul', [k, g.scalar(2)])]);
  return { term, grad: g.op('Reshape', [gradFeatures, g.op('Shape', [activation])]) };
}

/**
 * With G = s·F Fᵀ (s = gramScale(M)) and T symmetric:
 *   style_l = w · mean((G − T)²) over C² values;  d/dG = (2w/C²)·(G − T);
 *   d/dF = s·(dG + dGᵀ)·F = (4·w·s/C²)·(G − T)·F.
 */
function styleLoss(g: GraphBuilder, activation: string, layer: string, c: number) {
  const { gram, features, scale } = gramMatrix(g, activation, layer, c);
  const diff = g.op('Sub', [gram, g.input(inputNames.styleTarget(layer), [c, c])]);
  const weight = g.input(inputNames.styleWeight(layer), []);
  const term = g.op('Mul', [
    g.op('ReduceSumSquare', [diff], { keepdims: 0 }),
    g.op('Mul', [weight, g.scalar(1 / (c * c))]),
  ]);
  const k = g.op('Mul', [g.op('Mul', [weight, scale]), g.scalar(4 / (c * c))]);
  const gradFeatures = g.op('MatMul', [g.op('Mul', [diff, k]), features]);
  return { term, grad: g.op('Reshape', [gradFeatures, g.op('Shape', [activation])]) };
}

/** G = s · F Fᵀ with F the activation as [C, M] and s the gram_scale_<l> input. */
function gramMatrix(g: GraphBuilder, activation: string, layer: string, c: number) {
  const features = g.op('Reshape', [activation, g.ints([c, -1])]);
  const scale = g.input(inputNames.gramScale(layer), []);
  const gram = g.op('Mul', [g.op('Gemm', [features, features], { transB: 1 }), scale]);
  return { gram, features, scale };
}

/**
 * tv = t · (mean(Δx²) + mean(Δy²)) on the image [1, H, W, 3], with Δx = x[:, :, 1:] − x[:, :, :−1];
 * each mean is k·Σd² with k = t / N its input (tv_scale_x, tv_scale_y). d/dx: each difference
 * d = x[j+1] − x[j] adds 2k·d at j+1 and subtracts it at j, i.e. the scaled differences padded by one before
 * minus padded by one after. A 1-pixel side has no differences and adds 0.
 */
function totalVariation(g: GraphBuilder, image: string) {
  const terms: string[] = [];
  const grads: string[] = [];
  for (const [axis, name] of [
    [2, 'x'],
    [1, 'y'],
  ] as const) {
    const diff = g.op('Sub', [
      g.op('Slice', [image, g.ints([1]), g.ints([Number.MAX_SAFE_INTEGER]), g.ints([axis])]),
      g.op('Slice', [image, g.ints([0]), g.ints([-1]), g.ints([axis])]),
    ]);
    const k = g.input(inputNames.tvScale(name), []);
    terms.push(g.op('Mul', [g.op('ReduceSumSquare', [diff], { keepdims: 0 }), k]));
    const scaled = g.op('Mul', [diff, g.op('Mul', [k, g.scalar(2)])]);
    const before = [0, 0, 0, 0, 0, 0, 0, 0];
    const after = [0, 0, 0, 0, 0, 0, 0, 0];
    before[axis] = 1;
    after[4 + axis] = 1;
    grads.push(g.op('Sub', [g.op('Pad', [scaled, g.ints(before)]), g.op('Pad', [scaled, g.ints(after)])]));
  }
  return { term: g.op('Add', terms), grad: g.op('Add', grads) };
}

/** a₁ + a₂ + … as a chain of Add (ONNX Runtime's WebGPU provider has no Sum kernel). */
function add(g: GraphBuilder, terms: readonly string[]): string {
  return terms.slice(1).reduce((sum, t) => g.op('Add', [sum, t]), terms[0]!);
}

function channels(weights: VggWeights, layer: string): number {
  const w = weights.get(layer);
  if (!w) throw new Error(`layer ${layer} is not in the loaded weights`);
  return w.outChannels;
}
