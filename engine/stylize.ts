import { setImmediate as nextTurn } from 'node:timers/promises';
import { combineLuminance, luminance, matchLuminance } from './color.ts';
import type { Evaluator, Objective } from './evaluator.ts';
import { fitSize, type RgbImage, resize, rgbImage } from './image.ts';
import { blendStyles, type LossParts, type LossWeights, lossTerms } from './losses.ts';
import { createOptimizer, type OptimizerName } from './optimizers.ts';
import { mulberry32 } from './random.ts';
import {
  type ConvergenceStop,
  DEFAULT_SCHEDULE,
  DEFAULT_STOP,
  hasConverged,
  planIterations,
  type Schedule,
  scaleSizes,
} from './schedule.ts';
import type { TargetsCache } from './targets-cache.ts';
import { FrameRecorder, type TimelapseFrame, type TimelapseOptions } from './timelapse.ts';
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
  /**
   * The most optimiser steps in all scales together (each one loss evaluation), shared among the scales by
   * `schedule`; with the convergence stop a scale ends as soon as its loss has stopped falling.
   */
  iterations: number;
  /** How the iterations are shared among the scales (default DEFAULT_SCHEDULE). */
  schedule?: Schedule | undefined;
  /** When a scale has converged (default DEFAULT_STOP); false runs every iteration of the ceiling. */
  stop?: ConvergenceStop | false | undefined;
  /**
   * Keep the image within 0-255 at every step (default): the optimiser then never relies on values that saving
   * the result clamps away. False only to measure what that gains.
   */
  project?: boolean | undefined;
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
  /**
   * Continue from this image (a painting of the same request at a smaller size): it is upsampled to the final
   * size, as the next scale would start from the previous one's result, and only the final scale runs, with the
   * iterations `schedule` gives it. A result painted with `preserveColors` is continued on its luminance.
   */
  start?: RgbImage | undefined;
}

export interface Progress {
  /** Iterations done so far, over all scales. */
  iteration: number;
  /** The ceiling. */
  iterations: number;
  /** The last scale has converged before the ceiling: this is the last report, and the painting is done. */
  converged: boolean;
  /** 1-based index of the current scale, and how many there are. */
  scale: number;
  scales: number;
  width: number;
  height: number;
  loss: number;
  parts: LossParts;
  elapsedMs: number;
  /**
   * Time left until the ceiling at the speed so far, iterations weighted by their pixels: an upper bound, which
   * drops when a scale converges early; 0 once the painting has converged.
   */
  etaMs: number;
  /** The image as it is now, at the current scale (within 0-255). */
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
  /** Keep a timelapse of the optimisation: small frames, evenly spaced, in bounded memory (see FrameRecorder). */
  timelapse?: TimelapseOptions | undefined;
}

export interface StylizeResult {
  image: RgbImage;
  /** Iterations done over all scales. */
  iterations: number;
  /** The last scale converged before the ceiling. */
  converged: boolean;
  loss: number;
  parts: LossParts;
  ms: number;
  sizes: { width: number; height: number }[];
  /** With `options.timelapse`: from the first image to the result, all at one size. */
  timelapse?: TimelapseFrame[] | undefined;
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
  const allSizes = scaleSizes(request.size, request.scales).map((side) =>
    fitSize(request.content.width, request.content.height, side),
  );
  const schedule = request.schedule ?? DEFAULT_SCHEDULE;
  const stop = request.stop ?? DEFAULT_STOP;
  const from = request.start;
  // A continued painting has done the coarser scales already: it runs the final one with the final one's share.
  const sizes = from ? allSizes.slice(-1) : allSizes;
  const ceiling = from
    ? planIterations(
        schedule,
        request.iterations,
        allSizes.map((s) => s.width * s.height),
      ).at(-1)!
    : request.iterations;
  const pixels = sizes.map((s) => s.width * s.height);
  /** Iterations × pixels of `total` iterations from scale `from` on: iteration cost grows with the pixels. */
  const work = (total: number, from: number) =>
    planIterations(schedule, total, pixels.slice(from)).reduce((sum, n, i) => sum + n * pixels[from + i]!, 0);
  const problem = prepare(request);
  const finalSize = sizes.at(-1)!;
  const recorder = options.timelapse && timelapseRecorder(request, problem, finalSize, options.timelapse);

  let image: RgbImage | undefined = from && (problem.preserve ? luminance(from) : from);
  let done = 0;
  let doneWork = 0;
  let converged = false;
  let last = { loss: Number.NaN, parts: { content: 0, style: 0, tv: 0 } };
  let lastReport = { iteration: 0, at: start };

  for (const [index, size] of sizes.entries()) {
    signal?.throwIfAborted();
    // Planned again at each scale: what an earlier scale left when it converged goes to the later ones.
    const budget = planIterations(schedule, ceiling - done, pixels.slice(index))[0]!;
    const { objective, content } = await scaleObjective(evaluator, request, problem, size, options);
    try {
      const x0 = image
        ? resize(image, size.width, size.height).data
        : request.init === 'noise'
          ? noise(content.data.length, request.seed ?? 0)
          : content.data;
      const optimizer = await createOptimizer(request.optimizer ?? 'lbfgs', objective, x0, {
        learningRate: request.learningRate,
        bounds: request.project === false ? undefined : PIXEL_RANGE,
      });
      if (index === 0) recorder?.offer(0, { ...size, data: x0 });
      const losses: number[] = [];
      for (let i = 0; i < budget; i++) {
        // Some backends (TensorFlow.js on WASM or plain JavaScript) never return to the event loop by
        // themselves: without this turn no timer or signal handler would run during a whole job (a worker's
        // heartbeat, the CLI's Ctrl-C). It costs microseconds per step.
        await nextTurn();
        signal?.throwIfAborted();
        const result = await optimizer.step();
        last = { loss: result.loss, parts: result.parts };
        losses.push(result.loss);
        done++;
        doneWork += pixels[index]!;
        recorder?.offer(done, { ...size, data: optimizer.x });
        const stopped = i < budget - 1 && stop !== false && hasConverged(losses, stop);
        const final = stopped || i === budget - 1;
        converged = stopped && index === sizes.length - 1;
        const now = performance.now();
        if (
          onProgress &&
          (final || done - lastReport.iteration >= every.iterations || now - lastReport.at >= every.ms)
        ) {
          lastReport = { iteration: done, at: now };
          const elapsedMs = now - start;
          // The work left until the ceiling, at the rate so far: an upper bound, which drops when a scale
          // converges early.
          const workLeft = final
            ? work(ceiling - done, index + 1)
            : (budget - i - 1) * pixels[index]! + work(ceiling - done - (budget - i - 1), index + 1);
          onProgress({
            iteration: done,
            iterations: ceiling,
            converged,
            scale: index + 1,
            scales: sizes.length,
            ...size,
            ...last,
            elapsedMs,
            etaMs: converged ? 0 : (elapsedMs / doneWork) * workLeft,
            preview: clamped(rgbImage(size.width, size.height, optimizer.x.slice())),
          });
        }
        if (stopped) break;
      }
      image = rgbImage(size.width, size.height, optimizer.x.slice());
    } finally {
      objective.dispose();
    }
  }

  const result = resultImage(request, image ?? problem.content);
  const timelapse = recorder?.finish(done, result);
  return {
    image: result,
    iterations: done,
    converged,
    ...last,
    ms: performance.now() - start,
    sizes,
    timelapse,
  };
}

/**
 * The result of `request` from `image`, the image being optimised at any scale (the last scale's at the end, or
 * a progress `preview` when the painting is stopped early): at the final size, within 0-255, with the photo's
 * colours where `preserveColors` (the optimised image is then luminance only).
 */
export function resultImage(
  request: Pick<StylizeRequest, 'content' | 'size' | 'scales' | 'preserveColors'>,
  image: RgbImage,
): RgbImage {
  const side = scaleSizes(request.size, request.scales).at(-1)!;
  const { width, height } = fitSize(request.content.width, request.content.height, side);
  const result = clamped(resize(image, width, height));
  if (!request.preserveColors) return result;
  return clamped(combineLuminance(result, resize(request.content, width, height)));
}

/**
 * The loss a result of `request` is judged by: its objective at the final size, with the same targets as the
 * driver's last scale (without `preserveColors`, whose result is recombined with the photo's colours after the
 * optimisation). The caller disposes of it.
 */
export async function finalObjective(evaluator: Evaluator, request: StylizeRequest): Promise<Objective> {
  const side = scaleSizes(request.size, request.scales).at(-1)!;
  const size = fitSize(request.content.width, request.content.height, side);
  return (await scaleObjective(evaluator, request, prepare(request), size, {})).objective;
}

/** The timelapse's recorder; with `preserveColors` each frame gets the photo's colours, at frame size. */
function timelapseRecorder(
  request: StylizeRequest,
  problem: ReturnType<typeof prepare>,
  size: { width: number; height: number },
  options: TimelapseOptions,
): FrameRecorder {
  if (!problem.preserve) return new FrameRecorder(size.width, size.height, options);
  let photo: RgbImage | undefined;
  return new FrameRecorder(size.width, size.height, options, (frame) => {
    photo ??= resize(request.content, frame.width, frame.height);
    return combineLuminance(frame, photo);
  });
}

/** The photo and the paintings as the optimisation sees them (luminance only when colours are kept). */
function prepare(request: StylizeRequest) {
  const preserve = request.preserveColors ?? false;
  return {
    preserve,
    content: preserve ? luminance(request.content) : request.content,
    styles: request.styles.map((s) => ({
      image: preserve ? matchLuminance(s.image, request.content) : s.image,
      weight: s.weight ?? 1,
      cacheKey: preserve ? undefined : s.cacheKey,
    })),
  };
}

/** The objective at one scale: the photo's features and the blended paintings' Gram matrices at that size. */
async function scaleObjective(
  evaluator: Evaluator,
  request: StylizeRequest,
  problem: ReturnType<typeof prepare>,
  size: { width: number; height: number },
  options: Pick<StylizeOptions, 'targetsCache' | 'onStyleTargets'>,
): Promise<{ objective: Objective; content: RgbImage }> {
  const cache = options.targetsCache;
  const content = resize(problem.content, size.width, size.height);
  const contentTargets = await evaluator.targets(content, { content: request.layers.content, style: [] });
  const styleSide = Math.max(16, Math.round(Math.max(size.width, size.height) * (request.styleScale ?? 1)));
  const styleGrams = await Promise.all(
    problem.styles.map(async ({ image: style, weight, cacheKey }) => {
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
  return { objective: await evaluator.objective(size.width, size.height, terms), content };
}

/** Pixel levels: every image the optimiser evaluates is kept within them (measured in docs/benchmarks.md). */
const PIXEL_RANGE = { min: 0, max: 255 };

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
