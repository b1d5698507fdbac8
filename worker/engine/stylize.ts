import { setImmediate as nextTurn } from 'node:timers/promises';
import { combineLuminance, luminance, matchLuminance } from './color.ts';
import type { Evaluator } from './evaluator.ts';
import { fitSize, type RgbImage, resize, rgbImage } from './image.ts';
import { blendStyles, type LossParts, type LossWeights, lossTerms } from './losses.ts';
import { createOptimizer, type OptimizerName } from './optimizers.ts';
import { mulberry32 } from './random.ts';
import type { TargetsCache } from './targets-cache.ts';
import type { LayerSet } from './vgg.ts';

/**
 * Neural style transfer (Gatys, Ecker & Bethge, CVPR 2016): the image itself is optimised so that its VGG-19
 * features match the content photo's and its feature correlations (Gram matrices) match the painting's.
 * This driver is the same for every evaluator: coarse-to-fine scales, targets, optimiser, progress.
 */
export interface StylizeRequest {
  /** The content photo, at any resolution: the driver resizes it per scale. */
  content: RgbImage;
  /** One or more style images; several are blended by `weight` (default 1 each). */
  styles: {
    image: RgbImage;
    weight?: number | undefined;
    /** Identity of this style image (e.g. a preset's name and pixels' sha256): lets `targetsCache` serve it. */
    cacheKey?: string | undefined;
  }[];
  /** Longer side of the output, in pixels. */
  size: number;
  /** Optimiser steps in total, shared equally among the scales. */
  iterations: number;
  layers: LayerSet;
  weights: LossWeights;
  optimizer?: OptimizerName | undefined;
  learningRate?: number | undefined;
  /** Start from the content photo (default) or from seeded noise. */
  init?: 'content' | 'noise' | undefined;
  seed?: number | undefined;
  /** Style image size relative to the output (1: the style's longer side equals `size`). */
  styleScale?: number | undefined;
  /** Keep the photo's colours: transfer on luminance only. */
  preserveColors?: boolean | undefined;
  /** Number of coarse-to-fine scales; by default it follows the size (see `scaleSizes`). */
  scales?: number | undefined;
}

export interface Progress {
  /** Iterations done so far, over all scales. */
  iteration: number;
  iterations: number;
  /** 1-based index of the current scale, and how many there are. */
  scale: number;
  scales: number;
  width: number;
  height: number;
  loss: number;
  parts: LossParts;
  elapsedMs: number;
  etaMs: number;
  /** The image as it is now, at the current scale (clamped to 0-255). */
  preview: RgbImage;
}

export interface StylizeOptions {
  onProgress?: ((progress: Progress) => void) | undefined;
  /** Report at most this often: whichever of the two limits is reached first. */
  progressEvery?: { iterations?: number; ms?: number } | undefined;
  /** Checked before every iteration: cancelling costs at most one iteration. */
  signal?: AbortSignal | undefined;
  /**
   * Style Gram targets kept between runs, for styles with a `cacheKey` (not with `preserveColors`: the style's
   * luminance is then matched to the content, so its targets depend on the photo).
   */
  targetsCache?: TargetsCache | undefined;
  /** Told where each style's targets at each scale came from, and how long getting them took. */
  onStyleTargets?: ((event: { cacheKey: string; cached: boolean; ms: number }) => void) | undefined;
}

export interface StylizeResult {
  image: RgbImage;
  iterations: number;
  loss: number;
  parts: LossParts;
  ms: number;
  sizes: { width: number; height: number }[];
}

/** Smallest side worth optimising at: below this VGG's deeper layers see only a few pixels. */
const MIN_SCALE_SIDE = 100;

/** Output sizes from coarse to fine, each twice the previous: 128 → [128], 256 → [128, 256], 512 → three. */
export function scaleSizes(size: number, scales?: number): number[] {
  const count = scales ?? 1 + Math.max(0, Math.floor(Math.log2(size / MIN_SCALE_SIDE)));
  return Array.from({ length: count }, (_, i) => Math.round(size / 2 ** (count - 1 - i)));
}

export async function stylize(
  evaluator: Evaluator,
  request: StylizeRequest,
  options: StylizeOptions = {},
): Promise<StylizeResult> {
  const start = performance.now();
  const { signal, onProgress } = options;
  const every = {
    iterations: options.progressEvery?.iterations ?? 10,
    ms: options.progressEvery?.ms ?? 2000,
  };
  const sides = scaleSizes(request.size, request.scales);
  const sizes = sides.map((side) => fitSize(request.content.width, request.content.height, side));
  const perScale = splitEvenly(request.iterations, sizes.length);
  // Iteration cost grows with the pixel count: the ETA weights the remaining work by it.
  const work = sizes.map((s, i) => s.width * s.height * perScale[i]!);
  const totalWork = work.reduce((a, b) => a + b, 0);

  const preserve = request.preserveColors ?? false;
  const content = preserve ? luminance(request.content) : request.content;
  const styles = request.styles.map((s) => ({
    image: preserve ? matchLuminance(s.image, request.content) : s.image,
    weight: s.weight ?? 1,
    cacheKey: preserve ? undefined : s.cacheKey,
  }));
  const cache = options.targetsCache;

  let image: RgbImage | undefined;
  let done = 0;
  let doneWork = 0;
  let last = { loss: Number.NaN, parts: { content: 0, style: 0, tv: 0 } };
  let lastReport = { iteration: 0, at: start };

  for (const [index, size] of sizes.entries()) {
    signal?.throwIfAborted();
    const contentAtScale = resize(content, size.width, size.height);
    const contentTargets = await evaluator.targets(contentAtScale, {
      content: request.layers.content,
      style: [],
    });
    const styleSide = Math.max(16, Math.round(Math.max(size.width, size.height) * (request.styleScale ?? 1)));
    const styleGrams = await Promise.all(
      styles.map(async ({ image: style, weight, cacheKey }) => {
        const at = fitSize(style.width, style.height, styleSide);
        const began = performance.now();
        const key =
          cache && cacheKey !== undefined
            ? cache.key({ style: cacheKey, ...at, layers: request.layers.style })
            : undefined;
        const cached = key === undefined ? undefined : await cache?.get(key);
        if (cached) {
          options.onStyleTargets?.({ cacheKey: cacheKey!, cached: true, ms: performance.now() - began });
          return { grams: cached, weight };
        }
        const targets = await evaluator.targets(resize(style, at.width, at.height), {
          content: [],
          style: request.layers.style,
        });
        if (key !== undefined) {
          await cache?.set(key, targets.style);
          options.onStyleTargets?.({ cacheKey: cacheKey!, cached: false, ms: performance.now() - began });
        }
        return { grams: targets.style, weight };
      }),
    );
    const terms = lossTerms(
      { content: contentTargets.content, style: blendStyles(styleGrams) },
      request.weights,
    );
    const objective = await evaluator.objective(size.width, size.height, terms);
    try {
      const x0 = image
        ? resize(image, size.width, size.height).data
        : request.init === 'noise'
          ? noise(contentAtScale.data.length, request.seed ?? 0)
          : contentAtScale.data;
      const optimizer = await createOptimizer(request.optimizer ?? 'lbfgs', objective, x0, {
        learningRate: request.learningRate,
      });
      for (let i = 0; i < perScale[index]!; i++) {
        // Some backends (TensorFlow.js on WASM or plain JavaScript) never return to the event loop by
        // themselves: without this turn no timer or signal handler would run during a whole job (a worker's
        // heartbeat, the CLI's Ctrl-C). It costs microseconds per step.
        await nextTurn();
        signal?.throwIfAborted();
        const result = await optimizer.step();
        last = { loss: result.loss, parts: result.parts };
        done++;
        doneWork += size.width * size.height;
        const now = performance.now();
        const final = i === perScale[index]! - 1;
        if (
          onProgress &&
          (final || done - lastReport.iteration >= every.iterations || now - lastReport.at >= every.ms)
        ) {
          lastReport = { iteration: done, at: now };
          const elapsedMs = now - start;
          onProgress({
            iteration: done,
            iterations: request.iterations,
            scale: index + 1,
            scales: sizes.length,
            ...size,
            ...last,
            elapsedMs,
            etaMs: (elapsedMs / doneWork) * (totalWork - doneWork),
            preview: clamped(rgbImage(size.width, size.height, optimizer.x.slice())),
          });
        }
      }
      image = rgbImage(size.width, size.height, optimizer.x.slice());
    } finally {
      objective.dispose();
    }
  }

  const finalSize = sizes.at(-1)!;
  let result = clamped(image ?? resize(content, finalSize.width, finalSize.height));
  if (preserve) {
    result = clamped(combineLuminance(result, resize(request.content, finalSize.width, finalSize.height)));
  }
  return { image: result, iterations: done, ...last, ms: performance.now() - start, sizes };
}

function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** White noise in 0-255, as in the paper's random initialisation; the seed makes it repeatable. */
function noise(length: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => 255 * random());
}

function clamped(image: RgbImage): RgbImage {
  return rgbImage(
    image.width,
    image.height,
    image.data.map((v) => Math.min(255, Math.max(0, v))),
  );
}
