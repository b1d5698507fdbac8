import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { OnnxBackend } from '../backends.ts';
import type { Evaluation, Evaluator, Objective } from '../evaluator.ts';
import type { RgbImage } from '../image.ts';
import { gramScale, type LossTerms, type Targets } from '../losses.ts';
import { type LayerSet, type Pooling, poolsBefore, type VggWeights } from '../vgg.ts';
import { buildLossGraph, buildTargetsGraph, inputNames, outputNames } from './graph.ts';
import type { ConvBackward } from './network.ts';
import { checkOnDevice, deviceName, EXECUTION_PROVIDERS, findDevice, sessionOptions } from './providers.ts';

export interface OnnxEvaluatorOptions {
  /** Which execution provider runs the graphs (providers.ts); default `onnx`, the CPU. */
  backend?: OnnxBackend | undefined;
  pooling?: Pooling | undefined;
  /** The CPU provider's intra-op threads; default: every core. */
  threads?: number | undefined;
  /** How convolution input gradients are computed; default 'conv' (faster on ONNX Runtime's CPU kernels). */
  backward?: ConvBackward | undefined;
}

type Feeds = Record<string, ort.Tensor>;

/**
 * The losses of losses.ts on VGG-19 with ONNX Runtime, on the CPU, CUDA or WebGPU execution provider: the same
 * graph for each. The gradient is not derived by autodiff: graph.ts writes the backward pass out explicitly,
 * so one session run yields loss, parts and gradient. Sessions are built once per evaluator and layer set
 * (the image size is a dynamic dimension), so changing scale costs nothing, and every objective of the
 * evaluator (several jobs at once in a worker) runs on the same sessions.
 */
export class OnnxEvaluator implements Evaluator {
  readonly backend: OnnxBackend;
  readonly device: string;
  readonly #weights: VggWeights;
  readonly #pooling: Pooling;
  readonly #backward: ConvBackward;
  readonly #sessionOptions: ort.InferenceSession.SessionOptions;
  readonly #sessions = new Map<string, Promise<ort.InferenceSession>>();
  #disposed = false;

  private constructor(
    weights: VggWeights,
    backend: OnnxBackend,
    device: string,
    options: OnnxEvaluatorOptions,
  ) {
    this.#weights = weights;
    this.backend = backend;
    this.device = device;
    this.#pooling = options.pooling ?? 'avg';
    this.#backward = options.backward ?? 'conv';
    this.#sessionOptions = sessionOptions(
      EXECUTION_PROVIDERS[backend],
      options.threads ?? availableParallelism(),
    );
  }

  /**
   * Checks the provider's device (BackendUnavailable when there is none) and builds the loss session for
   * `layers` right away, so a runtime that cannot start fails here.
   */
  static async create(
    weights: VggWeights,
    layers: LayerSet,
    options: OnnxEvaluatorOptions = {},
  ): Promise<OnnxEvaluator> {
    const backend = options.backend ?? 'onnx';
    const provider = EXECUTION_PROVIDERS[backend];
    const device = await findDevice(provider);
    await checkOnDevice(provider);
    const name = deviceName(provider, device, options.threads);
    const evaluator = new OnnxEvaluator(weights, backend, name, options);
    try {
      await evaluator.#session('loss', layers);
    } catch (error) {
      evaluator.dispose();
      throw error;
    }
    return evaluator;
  }

  async targets(image: RgbImage, layers: LayerSet): Promise<Targets> {
    const wanted = { content: unique(layers.content), style: unique(layers.style) };
    const out: Targets = { content: new Map(), style: new Map() };
    if (wanted.content.length + wanted.style.length === 0) return out;
    const { width, height } = image;
    const feeds: Feeds = { [inputNames.image]: new ort.Tensor('float32', image.data, [1, height, width, 3]) };
    for (const layer of wanted.style) {
      feeds[inputNames.gramScale(layer)] = scalar(gramScale(this.#positions(layer, width, height)));
    }
    for (const layer of wanted.content) this.#positions(layer, width, height);
    const session = await this.#session('targets', wanted);
    const results = await session.run(feeds);
    for (const layer of wanted.content)
      out.content.set(layer, results[outputNames.content(layer)]!.data as Float32Array);
    for (const layer of wanted.style)
      out.style.set(layer, results[outputNames.style(layer)]!.data as Float32Array);
    return out;
  }

  async objective(width: number, height: number, terms: LossTerms): Promise<Objective> {
    const layers = { content: terms.content.map((t) => t.layer), style: terms.style.map((t) => t.layer) };
    for (const list of [layers.content, layers.style]) {
      if (new Set(list).size !== list.length)
        throw new Error(`a layer has two loss terms of one kind (${list.join(', ')})`);
    }
    // Inputs that stay the same for every evaluation: made once and reused.
    // Mean = weighted sum over a count that depends on the size: the counts are computed here, not in the graph.
    const feeds: Feeds = {
      [inputNames.tvScale('x')]: scalar(terms.tv / Math.max(1, height * (width - 1) * 3)),
      [inputNames.tvScale('y')]: scalar(terms.tv / Math.max(1, (height - 1) * width * 3)),
    };
    for (const { layer, target, weight } of terms.content) {
      const positions = this.#positions(layer, width, height);
      const c = this.#channels(layer);
      checkLength(
        `content target of ${layer}`,
        target,
        positions * c,
        `${positions} positions x ${c} channels`,
      );
      feeds[inputNames.contentTarget(layer)] = new ort.Tensor('float32', transposed(target, positions, c), [
        c,
        positions,
      ]);
      feeds[inputNames.contentScale(layer)] = scalar(weight / (positions * c));
    }
    for (const { layer, target, weight } of terms.style) {
      const positions = this.#positions(layer, width, height);
      const c = this.#channels(layer);
      checkLength(`Gram matrix of ${layer}`, target, c * c, `${c}x${c}`);
      feeds[inputNames.styleTarget(layer)] = new ort.Tensor('float32', target, [c, c]);
      feeds[inputNames.styleWeight(layer)] = scalar(weight);
      feeds[inputNames.gramScale(layer)] = scalar(gramScale(positions));
    }
    const session = await this.#session('loss', layers);
    const length = width * height * 3;
    const pixels = new Float32Array(length);
    feeds[inputNames.image] = new ort.Tensor('float32', pixels, [1, height, width, 3]);
    let busy = false;
    let disposed = false;
    return {
      evaluate: async (image: Float32Array): Promise<Evaluation> => {
        if (disposed) throw new Error('this objective has been disposed');
        checkLength('image', image, length, `${width}x${height}x3`);
        // The optimiser awaits each evaluation; should two overlap, the second gets its own input tensor.
        const shared = !busy;
        busy = true;
        try {
          if (shared) pixels.set(image);
          const input = shared
            ? feeds
            : {
                ...feeds,
                [inputNames.image]: new ort.Tensor('float32', image.slice(), [1, height, width, 3]),
              };
          const results = await session.run(input);
          const [content, style, tv] = results[outputNames.parts]!.data as Float32Array;
          return {
            loss: (results[outputNames.loss]!.data as Float32Array)[0]!,
            parts: { content: content!, style: style!, tv: tv! },
            gradient: results[outputNames.gradient]!.data as Float32Array,
          };
        } finally {
          if (shared) busy = false;
        }
      },
      dispose: () => {
        // The session stays with the evaluator (the next scale reuses it); the inputs go.
        disposed = true;
        for (const key of Object.keys(feeds)) delete feeds[key];
      },
    };
  }

  dispose(): void {
    this.#disposed = true;
    for (const session of this.#sessions.values()) {
      session.then((s) => s.release()).catch(() => {});
    }
    this.#sessions.clear();
  }

  /** One session per graph kind and layer set, built on first use. */
  #session(kind: 'loss' | 'targets', layers: LayerSet): Promise<ort.InferenceSession> {
    if (this.#disposed) return Promise.reject(new Error('the ONNX evaluator has been disposed'));
    const key = `${kind}:${layers.content.join(',')};${layers.style.join(',')}`;
    let session = this.#sessions.get(key);
    if (!session) {
      const graph =
        kind === 'loss'
          ? buildLossGraph(this.#weights, layers, { pooling: this.#pooling, backward: this.#backward })
          : buildTargetsGraph(this.#weights, layers, this.#pooling);
      session = ort.InferenceSession.create(graph.encode(), this.#sessionOptions);
      session.catch(() => this.#sessions.delete(key));
      this.#sessions.set(key, session);
    }
    return session;
  }

  /** Positions (h·w) of a layer's feature map for an image: each 2x2 pooling floors odd sizes. */
  #positions(layer: string, width: number, height: number): number {
    let [w, h] = [width, height];
    for (let i = poolsBefore(layer); i > 0; i--) [w, h] = [Math.floor(w / 2), Math.floor(h / 2)];
    if (w < 1 || h < 1) throw new Error(`a ${width}x${height} image is too small for layer ${layer}`);
    return w * h;
  }

  #channels(layer: string): number {
    const w = this.#weights.get(layer);
    if (!w) throw new Error(`layer ${layer} is not in the loaded weights`);
    return w.outChannels;
  }
}

/** [rows, cols] → [cols, rows]: `targets()` gives feature maps position-major (HWC), the graph wants channels first. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

const scalar = (value: number) => new ort.Tensor('float32', Float32Array.of(value), []);

const unique = (layers: readonly string[]) => [...new Set(layers)];

function checkLength(what: string, data: Float32Array, expected: number, shape: string): void {
  if (data.length !== expected)
    throw new Error(`${what} has ${data.length} values, expected ${expected} (${shape})`);
}
