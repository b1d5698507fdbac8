import type { Logger } from 'pino';
import type { JobOptions } from '../src/core/options.ts';
import type { OutputFormat } from '../src/images/index.ts';
import {
  type Backend,
  createEvaluator,
  type Evaluator,
  type Progress,
  type RgbImage,
  resolveLayers,
  stylize,
  weightsFromStrength,
} from './engine/index.ts';
import { pixelsSha256, TargetsCache, weightsFingerprint } from './engine/targets-cache.ts';

/**
 * Runs the engine for jobs. Evaluators are costly to make (weights read, backend started), so one per layer
 * set is made the first time a job needs it and reused for every later job of this process.
 */
export class Painter {
  readonly #evaluators = new Map<string, Promise<Evaluator>>();
  #targetsCache: Promise<TargetsCache> | undefined;

  /**
   * `targetsCacheDir`: where preset styles' Gram targets are kept between jobs and restarts (see
   * engine/targets-cache.ts); without it they are kept in memory only.
   */
  constructor(
    private readonly opts: { weightsDir: string; backend: Backend; targetsCacheDir?: string | undefined },
  ) {}

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
        backend: this.opts.backend,
        weights: this.opts.weightsDir,
        layers: resolveLayers(layers),
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
