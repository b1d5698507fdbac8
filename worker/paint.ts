import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { JobOptions } from '../src/core/options.ts';
import type { OutputFormat } from '../src/images/index.ts';
import { computeBackend } from '../src/metrics.ts';
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
  weightsFromStrength,
} from './engine/index.ts';
import { pixelsSha256, TargetsCache, weightsFingerprint } from './engine/targets-cache.ts';

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
}

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
 * Runs the engine for jobs. The compute backend is chosen once, at start. Evaluators are costly to make
 * (weights read, sessions built), so one per layer set is made the first time a job needs it and shared by
 * every job of this process, those running at once included: they run on the same ONNX Runtime sessions.
 */
export class Painter {
  readonly #evaluators = new Map<string, Promise<Evaluator>>();
  #targetsCache: Promise<TargetsCache> | undefined;

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
    return new Painter(opts, choice);
  }

  async paint(
    input: {
      content: RgbImage;
      styles: { image: RgbImage; name: string; weight: number; preset?: boolean | undefined }[];
      options: JobOptions;
    },
    run: {
      signal: AbortSignal;
      progressEveryMs: number;
      onProgress: (progress: Progress) => void;
      log?: Logger | undefined;
    },
  ): Promise<RgbImage> {
    const { options } = input;
    const layers = resolveLayers(options.layers);
    // Presets come back job after job: their style targets are cached, keyed by name and pixels.
    const styles = input.styles.map((s) => ({
      image: s.image,
      weight: s.weight,
      cacheKey: s.preset ? `preset:${s.name}:${pixelsSha256(s.image.data)}` : undefined,
    }));
    const cached = styles.some((s) => s.cacheKey !== undefined) && !options.preserveColors;
    const result = await stylize(
      await this.evaluator(options.layers),
      {
        content: input.content,
        styles,
        size: options.size,
        iterations: options.iterations,
        layers,
        weights: weightsFromStrength(options.strength),
        preserveColors: options.preserveColors,
      },
      {
        signal: run.signal,
        // Time-based only: the job system wants a bounded write rate whatever the iteration speed.
        progressEvery: { ms: run.progressEveryMs, iterations: Number.POSITIVE_INFINITY },
        onProgress: run.onProgress,
        targetsCache: cached ? await this.targetsCache() : undefined,
        onStyleTargets: ({ cacheKey, cached: hit, ms }) =>
          run.log?.info(
            { style: cacheKey.split(':')[1], ms: Math.round(ms) },
            hit ? 'style targets from cache' : 'style targets computed',
          ),
      },
    );
    return result.image;
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

  private evaluator(layers: JobOptions['layers']): Promise<Evaluator> {
    let evaluator = this.#evaluators.get(layers);
    if (!evaluator) {
      evaluator = createEvaluator({
        backend: this.choice?.backend ?? this.opts.backend,
        weights: this.opts.weightsDir,
        layers: resolveLayers(layers),
        threads: this.opts.threads,
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
