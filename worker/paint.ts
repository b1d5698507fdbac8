import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { errorLine } from '../engine/backends.ts';
import {
  type Backend,
  type BackendChoice,
  chooseBackend,
  createEvaluator,
  type Evaluator,
  type Progress,
  type RgbImage,
  resolveLayers,
  stylize,
  type TimelapseFrame,
  type TimelapseOptions,
  weightsFromStrength,
} from '../engine/index.ts';
import { pixelsSha256, TargetsCache, weightsFingerprint } from '../engine/targets-cache.ts';
import { type JobOptions, type LayerSetName, requirePaintableShape } from '../jobs/worker-api.ts';
import type { OutputFormat } from '../lib/images/index.ts';
import { MemberFacingError } from '../lib/member-error.ts';
import { computeBackend } from '../lib/metrics.ts';
import type { LayersChoice } from '../lib/request-rules.ts';
import { describeCapability, MEMORY_SHARE } from './capability.ts';

export interface PainterOptions {
  weightsDir: string;
  /** As configured (WORKER_BACKEND); `auto` is resolved once, when the painter starts. */
  backend: Backend;
  /** Threads of ONNX Runtime's CPU provider (see cpuThreads); default: every core. */
  threads?: number | undefined;
  /**
   * Where preset styles' Gram targets are kept between jobs and restarts (see engine/targets-cache.ts);
   * without it they are kept in memory only.
   */
  targetsCacheDir?: string | undefined;
  /** STYLIZE_LAYERS (default auto): what the operator asks this worker to paint with. */
  layers?: LayersChoice | undefined;
  /** Jobs painted at once (WORKER_CONCURRENCY; default 1): each needs its own share of memory. */
  concurrency?: number | undefined;
  /** Memory paintings may use, bytes; default MEMORY_SHARE of what is available to the process at start. */
  memoryBytes?: number | undefined;
}

/** What a worker can paint (recorded with its heartbeat), and the warning its start logs, if any. */
export type PainterCapability = Awaited<ReturnType<typeof describeCapability>>;

/**
 * The CPU provider's threads for each worker process on this machine: its cores shared among the worker
 * processes (`npm start` runs BOT_WORKERS of them), so that they do not oversubscribe the cores; every
 * process spinning on all of them made two workers on 2 cores paint 0.85x the jobs per minute of one.
 * Not divided among one process's concurrent jobs: ONNX Runtime's Node.js binding runs a session
 * synchronously on the JavaScript thread, so one process's jobs take turns on the device rather than
 * running side by side, and each turn is fastest with every thread (bench --throughput measures both).
 */
export function cpuThreads(workerProcesses: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workerProcesses)));
}

/**
 * The memory each worker process on this machine may plan its paintings on: MEMORY_SHARE of what is available
 * to it at start, shared among the worker processes like the cores (cpuThreads), bytes.
 */
export function workerMemory(workerProcesses: number, available = process.availableMemory()): number {
  return (MEMORY_SHARE * available) / Math.max(1, workerProcesses);
}

/**
 * Runs the engine for jobs. The compute backend is chosen once, at start. Evaluators are costly to make
 * (weights read, sessions built), so one per layer set is made the first time a job needs it and shared by
 * every job of this process, those running at once included: they run on the same ONNX Runtime sessions.
 */
export class Painter {
  readonly #evaluators = new Map<string, Promise<Evaluator>>();
  #targetsCache: Promise<TargetsCache> | undefined;
  #capability: Promise<PainterCapability> | undefined;

  /** `choice`: the backend `start` chose; without it each layer set's evaluator resolves `opts.backend`. */
  constructor(
    private readonly opts: PainterOptions,
    readonly choice?: BackendChoice | undefined,
  ) {}

  /**
   * Chooses the backend (BackendUnavailable when a named one cannot run here), logs the choice, the device
   * and why `auto` skipped each faster backend, and sets the `stylize_worker_compute_backend` metric.
   */
  static async start(opts: PainterOptions, log?: Logger): Promise<Painter> {
    const choice = await chooseBackend(opts.backend, { threads: opts.threads });
    log?.info(
      {
        backend: choice.backend,
        device: choice.device,
        ...(choice.skipped.length > 0
          ? { skipped: Object.fromEntries(choice.skipped.map((s) => [s.backend, s.reason])) }
          : {}),
      },
      'compute backend chosen',
    );
    computeBackend.reset();
    computeBackend.set(
      {
        requested: opts.backend,
        backend: choice.backend,
        device: choice.device,
        skipped: choice.skipped.map((s) => `${s.backend}:${s.code}`).join(','),
      },
      1,
    );
    const painter = new Painter(opts, choice);
    const { capability, warning } = await painter.capability();
    if (warning) log?.warn({ layers: capability.auto }, warning);
    if (capability.problem) log?.error({ setting: opts.layers ?? 'auto' }, capability.problem);
    log?.info(
      { layers: capability.auto, maxSize: capability.sizes, setting: opts.layers ?? 'auto' },
      'what this worker paints',
    );
    return painter;
  }

  /**
   * What this painter can paint: the layer sets its weights hold, its `auto` set, the largest size per set its
   * memory fits, and why not, where it cannot paint what STYLIZE_LAYERS asks. Worked out once (the weights read).
   */
  capability(): Promise<PainterCapability> {
    this.#capability ??= describeCapability({
      weightsDir: this.opts.weightsDir,
      setting: this.opts.layers ?? 'auto',
      backend: this.choice?.backend ?? this.opts.backend,
      device: this.choice?.device ?? 'not checked',
      concurrency: this.opts.concurrency ?? 1,
      memoryBytes: this.opts.memoryBytes ?? workerMemory(1),
    });
    return this.#capability;
  }

  async paint(
    input: {
      content: RgbImage;
      styles: { image: RgbImage; name: string; weight: number; preset?: boolean | undefined }[];
      options: JobOptions;
      /** A larger variation's start: the painting it enlarges (see the engine's `start`). */
      start?: RgbImage | undefined;
    },
    run: {
      signal: AbortSignal;
      progressEveryMs: number;
      onProgress: (progress: Progress) => void;
      log?: Logger | undefined;
      /** Keep a timelapse of the painting (see DEFAULT_TIMELAPSE). */
      timelapse?: TimelapseOptions | undefined;
    },
  ): Promise<{ image: RgbImage; timelapse?: TimelapseFrame[] | undefined }> {
    const { options } = input;
    const layerSet = await this.layerSet(options.layers);
    const layers = resolveLayers(layerSet);
    // Jobs are checked when accepted; this catches those accepted before, or for another worker's layers.
    const at = { size: options.size, layers: layerSet, maxSize: options.size };
    requirePaintableShape(input.content, { kind: 'photo' }, at);
    for (const style of input.styles) {
      requirePaintableShape(
        style.image,
        style.preset ? { kind: 'preset', label: style.name } : { kind: 'style' },
        at,
      );
    }
    // Presets come back job after job: their style targets are cached, keyed by name and pixels.
    const styles = input.styles.map((s) => ({
      image: s.image,
      weight: s.weight,
      cacheKey: s.preset ? `preset:${s.name}:${pixelsSha256(s.image.data)}` : undefined,
    }));
    const cached = styles.some((s) => s.cacheKey !== undefined) && !options.preserveColors;
    const result = await stylize(
      await this.evaluator(layerSet),
      {
        content: input.content,
        styles,
        size: options.size,
        iterations: options.iterations,
        layers,
        weights: weightsFromStrength(options.strength, layers),
        preserveColors: options.preserveColors,
        start: input.start,
      },
      {
        signal: run.signal,
        // Time-based only: the job system wants a bounded write rate whatever the iteration speed.
        progressEvery: { ms: run.progressEveryMs, iterations: Number.POSITIVE_INFINITY },
        onProgress: run.onProgress,
        timelapse: run.timelapse,
        targetsCache: cached ? await this.targetsCache() : undefined,
        onStyleTargets: ({ cacheKey, cached: hit, ms }) =>
          run.log?.info(
            { style: cacheKey.split(':')[1], ms: Math.round(ms) },
            hit ? 'style targets from cache' : 'style targets computed',
          ),
      },
    );
    return { image: result.image, timelapse: result.timelapse };
  }

  dispose(): void {
    for (const evaluator of this.#evaluators.values()) evaluator.then((e) => e.dispose()).catch(() => {});
    this.#evaluators.clear();
  }

  private targetsCache(): Promise<TargetsCache> {
    this.#targetsCache ??= weightsFingerprint(this.opts.weightsDir).then(
      (fingerprint) => new TargetsCache({ fingerprint, dir: this.opts.targetsCacheDir }),
    );
    this.#targetsCache.catch(() => {
      this.#targetsCache = undefined;
    });
    return this.#targetsCache;
  }

  /**
   * The layer set a job's `layers` paints with here (`auto`: this painter's best), or the operator's error where
   * its weights do not hold it (the claim gives a worker no such job; weights removed since its start can).
   */
  private async layerSet(layers: JobOptions['layers']): Promise<LayerSetName> {
    const { capability } = await this.capability();
    const set = layers === 'auto' ? capability.auto : layers;
    if (set && capability.sizes[set] !== undefined) return set;
    throw new MemberFacingError(
      'weights',
      `this worker's weights at ${this.opts.weightsDir} cannot paint with the ${set ?? 'shallow or paper'} layers` +
        (capability.problem ? ` (${capability.problem})` : ''),
      { audience: 'operator' },
    );
  }

  private evaluator(layers: LayerSetName): Promise<Evaluator> {
    let evaluator = this.#evaluators.get(layers);
    if (!evaluator) {
      evaluator = createEvaluator({
        backend: this.choice?.backend ?? this.opts.backend,
        weights: this.opts.weightsDir,
        layers: resolveLayers(layers),
        threads: this.opts.threads,
      }).catch((error: unknown) => {
        // Weights that no longer load, a backend that no longer starts: the operator's setup, not the job's.
        throw new MemberFacingError(
          'setup',
          `could not start painting with the ${layers} layers: ${errorLine(error)}`,
          { audience: 'operator', cause: error },
        );
      });
      // A failed start (missing weights) is not cached: the next job tries again after the operator fixes it.
      evaluator.catch(() => this.#evaluators.delete(layers));
      this.#evaluators.set(layers, evaluator);
    }
    return evaluator;
  }
}

/** PNG, or JPEG where the PNG would be over the store's limit (large, detailed results). */
export async function encodeToFit(
  encode: (format: OutputFormat) => Promise<Buffer>,
  maxBytes: number,
): Promise<{ format: OutputFormat; bytes: Buffer }> {
  const png = await encode('png');
  return png.length <= maxBytes
    ? { format: 'png', bytes: png }
    : { format: 'jpeg', bytes: await encode('jpeg') };
}
