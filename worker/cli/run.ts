import { readFile, writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import {
  chooseBackend,
  createEvaluator,
  DEFAULT_TIMELAPSE,
  fitSize,
  type LossWeights,
  stylize,
  weightsFromStrength,
} from '../../engine/index.ts';
import {
  animationFormatForPath,
  comparison,
  decodeImage,
  encodeAnimation,
  encodeImage,
  formatForPath,
  probeImage,
} from '../../src/images/index.ts';
import { recommendedStrength } from '../../src/presets/catalogue.ts';
import type { RunOptions } from './options.ts';
import { cliLayers, requireMemory, requireShape } from './preflight.ts';
import type { CliSettings } from './settings.ts';
import { resolveStyles } from './styles.ts';

/** Style images are decoded no larger than this: enough for a style scale of 2 at the largest sizes. */
const MAX_STYLE_SIDE = 2048;

/** One stylization from files to files. Returns the summary that `--json` prints. */
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
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: 'stylize |{bar}| {value}/{total} it | scale {scale} | loss {loss} | {state}',
        stream: process.stderr,
        hideCursor: true,
      })
    : undefined;
  bar?.start(options.iterations, 0, { scale: '-', loss: '-', state: '' });
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const result = await stylize(
      evaluator,
      {
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
      },
      {
        signal: interrupt.signal,
        timelapse: timelapseFormat ? DEFAULT_TIMELAPSE : undefined,
        progressEvery: { iterations: 1, ms: 0 },
        onProgress: (p) => {
          // Stopped early: the bar ends full, at the iterations the painting took.
          if (p.converged) bar?.setTotal(p.iteration);
          bar?.update(p.iteration, {
            scale: `${p.scale}/${p.scales} ${p.width}x${p.height}`,
            loss: p.loss.toPrecision(4),
            state: p.converged ? 'converged' : `eta ${formatEta(p.etaMs)}`,
          });
        },
      },
    );
    bar?.stop();
    await writeFile(options.out, await encodeImage(result.image, outFormat));
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
    bar?.stop();
    process.off('SIGINT', onSigint);
    evaluator.dispose();
  }
}

/** "42s", "3m05s": the engine's estimate, an upper bound that drops when a scale converges early. */
function formatEta(ms: number): string {
  const seconds = Number.isFinite(ms) ? Math.round(ms / 1000) : 0;
  return seconds < 60
    ? `${seconds}s`
    : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read it (${code})`);
  }
}
