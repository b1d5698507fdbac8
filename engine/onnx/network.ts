import { type ConvWeights, IMAGENET_MEAN_BGR, networkUpTo, type Pooling, type VggWeights } from '../vgg.ts';
import type { GraphBuilder } from './builder.ts';
import { DataType } from './proto.ts';

/**
 * VGG-19's forward pass in ONNX (NCHW), and the backward pass of each of its operations: the pieces the
 * loss-and-gradient graph and the targets graph are built from.
 */

/** How each convolution's input gradient is computed (both are exact; which is faster depends on the runtime). */
export type ConvBackward = 'conv-transpose' | 'conv';

export type ForwardOp =
  | {
      kind: 'conv';
      layer: string;
      input: string;
      output: string;
      outChannels: number;
      weight: string;
      flipped?: string;
    }
  | { kind: 'pool'; pooling: Pooling; input: string; output: string };

export interface Forward {
  ops: ForwardOp[];
  /** Each convolution layer's output (after ReLU), [1, C, h, w]. */
  activations: Map<string, string>;
}

/**
 * image [1, H, W, 3] RGB 0-255 → VGG-19 up to `deepest`; `onActivation` is called as each layer's output
 * (after ReLU) is added, so that nodes built there come next in the graph's order.
 *
 * The RGB→BGR flip the Caffe weights expect is folded into conv1_1 (its kernel's input channels are
 * reversed) and the mean is subtracted in RGB order: conv(flip(x) − mean_bgr, W) = conv(x − mean_rgb, W')
 * exactly, zero padding included, in the forward pass and, by the same token, in the backward pass.
 */
export function forward(
  g: GraphBuilder,
  image: string,
  weights: VggWeights,
  deepest: string,
  pooling: Pooling,
  backward?: ConvBackward,
  onActivation?: (layer: string, activation: string) => void,
): Forward {
  const meanRgb = Float32Array.from([...IMAGENET_MEAN_BGR].reverse());
  let x = g.op('Sub', [
    g.op('Transpose', [image], { perm: [0, 3, 1, 2] }),
    g.floats('mean_rgb', meanRgb, [1, 3, 1, 1]),
  ]);
  const ops: ForwardOp[] = [];
  const activations = new Map<string, string>();
  let first = true;
  for (const op of networkUpTo(deepest)) {
    if (op.kind === 'pool') {
      const output = g.op(pooling === 'avg' ? 'AveragePool' : 'MaxPool', [x], POOL_2X2);
      ops.push({ kind: 'pool', pooling, input: x, output });
      x = output;
      continue;
    }
    const w = weights.get(op.layer);
    if (!w) throw new Error(`layer ${op.layer} is not in the loaded weights`);
    const kernel = converted(w, first ? 'oihw-rgb' : 'oihw', () =>
      oihw(w.kernel, w.inChannels, w.outChannels, first),
    );
    const weight = g.floats(`${op.layer}_w`, kernel, [w.outChannels, w.inChannels, 3, 3]);
    const bias = g.floats(`${op.layer}_b`, w.bias, [w.outChannels]);
    const z = g.op('Conv', [x, weight, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const output = g.op('Relu', [z]);
    const flipped =
      backward === 'conv'
        ? g.floats(
            `${op.layer}_wt`,
            converted(w, first ? 'flipped-rgb' : 'flipped', () =>
              transposedFlipped(kernel, w.inChannels, w.outChannels),
            ),
            [w.inChannels, w.outChannels, 3, 3],
          )
        : undefined;
    first = false;
    ops.push({
      kind: 'conv',
      layer: op.layer,
      input: x,
      output,
      outChannels: w.outChannels,
      weight,
      ...(flipped ? { flipped } : {}),
    });
    activations.set(op.layer, output);
    onActivation?.(op.layer, output);
    x = output;
  }
  return { ops, activations };
}

/**
 * d loss / d input of one forward operation, given d loss / d output (`grad`).
 *   conv + ReLU: mask by output > 0, then the transposed convolution with the same weights (stride 1,
 *     pads 1: the same size), or equivalently a convolution with the kernel transposed and rotated 180°.
 *   average pooling: dY/4 spread over each 2x2 window; an odd last row/column was never pooled, so it gets 0.
 *     (Upsampling by Resize then Pad measured faster on ONNX Runtime than Expand + Reshape.)
 *   max pooling: dY to the input(s) equal to their window's maximum, shared equally when several are (a
 *     subgradient; ties happen in flat regions of a photo). A mask, not a scatter through MaxPool's indices:
 *     those are int64, which GPU providers (WebGPU) leave to the CPU, copying every feature map there.
 *     Zeros (ReLU) tie with the padding of an odd edge, but their gradient is 0 there and the ReLU mask
 *     below stops them anyway.
 */
export function backwardOp(g: GraphBuilder, op: ForwardOp, grad: string, mode: ConvBackward): string {
  if (op.kind === 'conv') {
    const step = g.op('Cast', [g.op('Greater', [op.output, g.scalar(0)])], { to: DataType.FLOAT });
    const masked = g.op('Mul', [grad, step]);
    if (mode === 'conv') {
      if (!op.flipped) throw new Error('forward() was built without the flipped kernels');
      return g.op('Conv', [masked, op.flipped], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    }
    return g.op('ConvTranspose', [masked, op.weight], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  }
  // Nearest-neighbour ×2 upsampling (half-pixel centres: output i reads input round(i/2 − 1/4) = ⌊i/2⌋),
  // then zero padding of an odd last row/column: [1, C, h, w] → [1, C, 2h, 2w] → [1, C, H, W].
  const odd = g.op('Mod', [g.op('Shape', [op.input]), g.ints([1, 1, 2, 2])]);
  const pads = g.op('Concat', [g.ints([0, 0, 0, 0]), odd], { axis: 0 });
  const x2 = g.floats('x2', Float32Array.of(1, 1, 2, 2), [4]);
  const upsample = (x: string) => g.op('Pad', [g.op('Resize', [x, '', x2], { mode: 'nearest' }), pads]);
  if (op.pooling === 'avg') return upsample(g.op('Mul', [grad, g.scalar(0.25)]));
  const winners = g.op('Cast', [g.op('Equal', [op.input, upsample(op.output)])], { to: DataType.FLOAT });
  const perWindow = g.op('Mul', [g.op('AveragePool', [winners], POOL_2X2), g.scalar(4)]);
  return g.op('Mul', [upsample(g.op('Div', [grad, perWindow])), winners]);
}

const POOL_2X2 = { kernel_shape: [2, 2], strides: [2, 2] };

/** Kernels in the layouts the graphs use, converted once per weights object (an evaluator builds several graphs). */
const conversions = new WeakMap<ConvWeights, Map<string, Float32Array>>();

function converted(weights: ConvWeights, layout: string, convert: () => Float32Array): Float32Array {
  const layouts = conversions.get(weights) ?? new Map<string, Float32Array>();
  conversions.set(weights, layouts);
  const kernel = layouts.get(layout) ?? convert();
  layouts.set(layout, kernel);
  return kernel;
}

/** HWIO [3, 3, in, out] → OIHW [out, in, 3, 3], optionally reversing the input channels (RGB ↔ BGR). */
function oihw(hwio: Float32Array, cin: number, cout: number, flipInput: boolean): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      const src = flipInput ? cin - 1 - i : i;
      for (let k = 0; k < 9; k++) out[(o * cin + i) * 9 + k] = hwio[(k * cin + src) * cout + o]!;
    }
  }
  return out;
}

/** OIHW [out, in, 3, 3] → [in, out, 3, 3] rotated by 180°: the kernel whose convolution is the transpose. */
function transposedFlipped(kernel: Float32Array, cin: number, cout: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let k = 0; k < 9; k++) out[(i * cout + o) * 9 + (8 - k)] = kernel[(o * cin + i) * 9 + k]!;
    }
  }
  return out;
}
