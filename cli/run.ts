import { readFile, writeFile } from 'node:fs/promises';
import {
  chooseBackend,
  createEvaluator,
  fitSize,
  type LossWeights,
  type StylizeRequest,
  weightsFromStrength,
} from '../engine/index.ts';
import {
  animationFormatForPath,
  comparison,
  decodeImage,
  encodeAnimation,
  formatForPath,
  probeImage,
} from '../lib/images/index.ts';
import { recommendedStrength } from '../presets/catalogue.ts';
import type { RunOptions } from './options.ts';
import { paintToFile } from './painting.ts';
import { cliLayers, requireMemory, requireShape } from './preflight.ts';
import type { CliSettings } from './settings.ts';
import { resolveStyles } from './styles.ts';

/** Style images are decoded no larger than this: enough for a style scale of 2 at the largest sizes. */
const MAX_STYLE_SIDE = 2048;

/**
 * One stylization from files to files (the output as {@link paintToFile} writes it). Returns the summary that
 * `--json` prints.
 */
export async function runStylize(
  contentPath: string,
  options: RunOptions,
  config: Pick<CliSettings, 'presetsDir' | 'weightsDir' | 'jobDefaults'>,
) {
  const outFormat = formatForPath(options.out);
  const compareFormat = options.compare ? formatForPath(options.compare) : undefined;
  const timelapseFormat = options.timelapse ? animationFormatForPath(options.timelapse) : undefined;
  // Before anything is allocated for the painting, from the files' headers: they are images, the painting's
  // memory fits, and their shapes can be painted.
  const contentBytes = await readInput(contentPath);
  const photo = await probeImage(contentBytes);
  const styleFiles = await resolveStyles(options.style, config.presetsDir);
  if (options.styleWeights && options.styleWeights.length !== styleFiles.length) {
    throw new Error(
      `--style-weights has ${options.styleWeights.length} values for ${styleFiles.length} styles`,
    );
  }
  const styleSizes = await Promise.all(styleFiles.map((file) => probeImage(file.bytes)));
  const weightsDir = options.weights ?? config.weightsDir;
  const layers = await cliLayers(options.layers, weightsDir, (line) =>
    process.stderr.write(`stylize: ${line}\n`),
  );
  const choice = await chooseBackend(options.backend);
  const result = fitSize(photo.width, photo.height, options.size);
  requireMemory(result.width, result.height, { layers, backend: choice.backend });
  const at = { size: options.size, scales: options.scales, layers };
  requireShape(contentPath, photo.width, photo.height, at);
  for (const [i, file] of styleFiles.entries()) {
    const { width, height } = styleSizes[i]!;
    requireShape(`style ${file.name}`, width, height, { ...at, relative: options.styleScale });
  }
  const content = await decodeImage(contentBytes, { maxSide: options.size });
  const styles = await Promise.all(
    styleFiles.map(async (s, i) => ({
      name: s.name,
      image: await decodeImage(s.bytes, {
        maxSide: Math.min(MAX_STYLE_SIDE, Math.round(options.size * options.styleScale)),
      }),
      weight: options.styleWeights?.[i],
    })),
  );

  const evaluator = await createEvaluator({
    backend: choice.backend,
    weights: weightsDir,
    layers,
    pooling: options.pooling,
  });
  const strength =
    options.strength ??
    (await recommendedStrength(
      styleFiles.map((s, i) => ({ preset: s.preset, weight: options.styleWeights?.[i] })),
    )) ??
    config.jobDefaults.strength;
  const defaults = weightsFromStrength(strength, layers);
  const weights: LossWeights = {
    content: options.contentWeight ?? defaults.content,
    style: options.styleWeight ?? defaults.style,
    tv: options.tvWeight ?? defaults.tv,
  };
  const request: StylizeRequest = {
    content,
    styles,
    size: options.size,
    iterations: options.iterations,
    stop: options.earlyStop ? { tolerance: options.stopTolerance, window: options.stopWindow } : false,
    layers,
    weights,
    optimizer: options.optimizer,
    learningRate: options.learningRate,
    init: options.init,
    seed: options.seed,
    styleScale: options.styleScale,
    preserveColors: options.preserveColors,
    scales: options.scales,
  };
  try {
    const result = await paintToFile(evaluator, request, {
      ...options,
      format: outFormat,
      timelapse: timelapseFormat !== undefined,
    });
    if (options.compare && compareFormat) {
      await writeFile(options.compare, await comparison(content, styles, result.image, compareFormat));
    }
    if (options.timelapse && timelapseFormat && result.timelapse) {
      await writeFile(options.timelapse, await encodeAnimation(result.timelapse, timelapseFormat));
    }
    return {
      backend: evaluator.backend,
      device: evaluator.device,
      // With --backend auto: the faster backends that cannot run here, and why.
      skipped: choice.skipped.map(({ backend, reason }) => ({ backend, reason })),
      size: { width: result.image.width, height: result.image.height },
      scales: result.sizes.map((s) => `${s.width}x${s.height}`),
      iterations: result.iterations,
      converged: result.converged,
      strength,
      seconds: Number((result.ms / 1000).toFixed(2)),
      loss: result.loss,
      parts: result.parts,
      layers,
      optimizer: options.optimizer,
      seed: options.seed,
      out: options.out,
      ...(options.compare ? { compare: options.compare } : {}),
      ...(options.timelapse && result.timelapse
        ? { timelapse: { path: options.timelapse, frames: result.timelapse.length } }
        : {}),
    };
  } finally {
    evaluator.dispose();
  }
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read it (${code})`);
  }
}
