import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from './manifest.ts';
import { mulberry32 } from './random.ts';

/**
 * VGG-19 as the paper uses it: the 16 convolution layers (3x3, stride 1, "same" padding, ReLU) in five
 * blocks separated by 2x2 pooling. The classifier is never needed. Weights come from the Keras/Caffe model:
 * BGR input in 0-255 with the ImageNet mean subtracted.
 */
export const BLOCKS = [2, 2, 4, 4, 4] as const;
export const CONV_LAYERS: readonly string[] = BLOCKS.flatMap((count, b) =>
  Array.from({ length: count }, (_, i) => `conv${b + 1}_${i + 1}`),
);
const OUT_CHANNELS = [64, 128, 256, 512, 512] as const;

/** ImageNet mean in BGR order, subtracted after the RGB→BGR flip. */
export const IMAGENET_MEAN_BGR = [103.939, 116.779, 123.68] as const;

export type Pooling = 'avg' | 'max';

/** The network in execution order, cut after the deepest layer a job needs. */
export type NetworkOp = { kind: 'conv'; layer: string } | { kind: 'pool' };

export function networkUpTo(deepest: string): NetworkOp[] {
  const ops: NetworkOp[] = [];
  for (const layer of CONV_LAYERS) {
    const [block, index] = blockIndex(layer);
    if (index === 1 && block > 1) ops.push({ kind: 'pool' });
    ops.push({ kind: 'conv', layer });
    if (layer === deepest) return ops;
  }
  throw new Error(`unknown VGG-19 layer "${deepest}" (layers are ${CONV_LAYERS.join(', ')})`);
}

/** Deepest of the given layers, in network order. */
export function deepestLayer(layers: readonly string[]): string {
  const depth = (l: string) => {
    const i = CONV_LAYERS.indexOf(l);
    if (i < 0) throw new Error(`unknown VGG-19 layer "${l}" (layers are ${CONV_LAYERS.join(', ')})`);
    return i;
  };
  return layers.reduce((a, b) => (depth(b) > depth(a) ? b : a));
}

/** How many times a layer's feature map has been pooled (its size is the input's / 2^n). */
export function poolsBefore(layer: string): number {
  return blockIndex(layer)[0] - 1;
}

function blockIndex(layer: string): [number, number] {
  const m = /^conv(\d)_(\d)$/.exec(layer);
  if (!m) throw new Error(`unknown VGG-19 layer "${layer}" (layers are ${CONV_LAYERS.join(', ')})`);
  return [Number(m[1]), Number(m[2])];
}

/** Which layers give the style and the content. */
export interface LayerSet {
  style: string[];
  content: string[];
}

export const LAYER_SETS = {
  /** Gatys et al. 2016. */
  paper: { style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'], content: ['conv4_2'] },
  /** Needs only blocks 1-3: the weights that ship in small installs, and 3-4x faster. */
  shallow: { style: ['conv1_1', 'conv2_1', 'conv3_1'], content: ['conv3_2'] },
} as const satisfies Record<string, LayerSet>;
export type LayerSetName = keyof typeof LAYER_SETS;

/**
 * `paper`, `shallow`, or explicit lists: `style=conv1_1,conv2_1;content=conv3_2`.
 * Every layer must exist in VGG-19; whether its weights are installed is checked when they load.
 */
export function resolveLayers(spec: string | LayerSet): LayerSet {
  if (typeof spec !== 'string') return validated(spec);
  if (spec in LAYER_SETS) {
    const set = LAYER_SETS[spec as LayerSetName];
    return { style: [...set.style], content: [...set.content] };
  }
  const parts = Object.fromEntries(
    spec.split(';').map((part) => {
      const [key, list = ''] = part.split('=');
      return [
        key?.trim(),
        list
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ];
    }),
  ) as Partial<Record<string, string[]>>;
  if (!parts.style?.length || !parts.content?.length) {
    throw new Error(
      `layers "${spec}": use ${Object.keys(LAYER_SETS).join(' or ')}, or "style=conv1_1,conv2_1;content=conv3_2"`,
    );
  }
  return validated({ style: parts.style, content: parts.content });
}

function validated(set: LayerSet): LayerSet {
  for (const layer of [...set.style, ...set.content]) blockIndex(layer);
  return { style: [...set.style], content: [...set.content] };
}

/** One convolution: kernel [3, 3, in, out] (HWIO, as Keras and TensorFlow.js store it) and bias [out]. */
export interface ConvWeights {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
}
export type VggWeights = ReadonlyMap<string, ConvWeights>;

const kerasName = (layer: string) => layer.replace(/^conv(\d)_(\d)$/, 'block$1_conv$2');

/**
 * Loads the convolution weights a network up to `deepest` needs from a TensorFlow.js weights directory.
 * A missing layer is an error that names it, says which blocks the weights hold and how to get the full weights
 * (callers add their own way round it, such as the shallow layers).
 */
export async function loadVggWeights(dir: string, deepest: string): Promise<VggWeights> {
  const manifest = await readManifest(dir);
  const needed = new Set(
    networkUpTo(deepest).flatMap((op) => (op.kind === 'conv' ? [kerasName(op.layer)] : [])),
  );
  const tensors = new Map<string, Float32Array>();
  for (const group of manifest) {
    if (!group.weights.some((w) => needed.has(w.name.split('/')[0]!))) continue;
    const shards = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const w of group.weights) {
      const length = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * length > bytes.length)
        throw new Error(`weights shard for ${w.name} in ${dir} is truncated`);
      // Copy into an aligned buffer: shard offsets need not be multiples of 4 within a Node Buffer pool.
      tensors.set(
        w.name,
        new Float32Array(
          bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * length),
        ),
      );
      offset += 4 * length;
    }
  }
  const weights = new Map<string, ConvWeights>();
  let inChannels = 3;
  for (const op of networkUpTo(deepest)) {
    if (op.kind !== 'conv') continue;
    const kernel = tensors.get(`${kerasName(op.layer)}/kernel`);
    const bias = tensors.get(`${kerasName(op.layer)}/bias`);
    if (!kernel || !bias) {
      throw new Error(
        `layer ${op.layer} (${kerasName(op.layer)}) is not in the weights at ${dir}, which hold ` +
          `${heldBlocks(tensors)}: install the full VGG-19 with \`stylize weights download\``,
      );
    }
    const outChannels = bias.length;
    if (kernel.length !== 9 * inChannels * outChannels) {
      throw new Error(
        `layer ${op.layer} in ${dir} has a kernel of ${kernel.length} values, expected 3x3x${inChannels}x${outChannels}`,
      );
    }
    weights.set(op.layer, { inChannels, outChannels, kernel, bias });
    inChannels = outChannels;
  }
  return weights;
}

/** "blocks 1-3 only", "no convolution layers": the blocks whose every layer the loaded tensors hold. */
function heldBlocks(tensors: ReadonlyMap<string, Float32Array>): string {
  let blocks = 0;
  while (
    blocks < BLOCKS.length &&
    CONV_LAYERS.filter((l) => blockIndex(l)[0] === blocks + 1).every((l) =>
      tensors.has(`${kerasName(l)}/kernel`),
    )
  ) {
    blocks++;
  }
  return blocks === 0 ? 'no complete block' : `blocks 1-${blocks} only`;
}

/**
 * Which of the named layer sets the weights in `dir` can run (every layer they need loads: the manifest, the
 * shards and their sizes), deepest first, and for each other set why not (a sentence for whoever installs the
 * weights). Reads the weights; allocates them only while checking.
 */
export async function usableLayerSets(
  dir: string,
): Promise<{ usable: LayerSetName[]; unusable: Partial<Record<LayerSetName, string>> }> {
  const usable: LayerSetName[] = [];
  const unusable: Partial<Record<LayerSetName, string>> = {};
  // Deepest first: a network that loads up to conv5_1 holds every shallower layer too.
  for (const name of ['paper', 'shallow'] as const) {
    const set = LAYER_SETS[name];
    if (usable.length > 0) {
      usable.push(name);
      continue;
    }
    try {
      await loadVggWeights(dir, deepestLayer([...set.style, ...set.content]));
      usable.push(name);
    } catch (error) {
      unusable[name] = error instanceof Error ? error.message : String(error);
    }
  }
  return { usable, unusable };
}

/**
 * VGG-19-shaped weights with random values (He initialisation, small positive biases): the same cost as the
 * real network, for tests and benchmarks where the real weights are not installed.
 */
export function randomVggWeights(deepest: string, seed = 1, widthScale = 1): VggWeights {
  const random = mulberry32(seed);
  const weights = new Map<string, ConvWeights>();
  let inChannels = 3;
  for (const op of networkUpTo(deepest)) {
    if (op.kind !== 'conv') continue;
    const outChannels = Math.max(1, Math.round(OUT_CHANNELS[poolsBefore(op.layer)]! * widthScale));
    const std = Math.sqrt(2 / (9 * inChannels));
    const kernel = new Float32Array(9 * inChannels * outChannels).map(() => std * gaussian(random));
    const bias = new Float32Array(outChannels).map(() => 0.01 * random());
    weights.set(op.layer, { inChannels, outChannels, kernel, bias });
    inChannels = outChannels;
  }
  return weights;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
