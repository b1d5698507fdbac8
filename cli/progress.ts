import { SingleBar } from 'cli-progress';
import type { Progress } from '../engine/index.ts';
import { DEFAULT_PRINT_EVERY } from './options.ts';

/**
 * How `stylize` shows a painting's progress on stderr: a progress bar on a terminal; elsewhere (piped, in a log,
 * under Docker) one line every `printEvery` iterations, as neural-style's `-print_iter`, so that the log shows
 * the painting advance. The lines go to stderr with the rest of what is said to people: stdout holds only the
 * `--json` summary.
 */
export interface ProgressView {
  update(progress: Progress): void;
  stop(): void;
}

/**
 * `printEvery`: iterations between lines; 0 for none; undefined for the default (a bar on a terminal, else a
 * line every DEFAULT_PRINT_EVERY iterations). `iterations`: the ceiling the bar starts with.
 */
export function progressView(
  printEvery: number | undefined,
  iterations: number,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressView {
  const every = printEvery ?? (stream.isTTY ? 0 : DEFAULT_PRINT_EVERY);
  if (every > 0) return progressLines(every, stream);
  if (stream.isTTY) return progressBar(iterations, stream);
  return { update() {}, stop() {} };
}

/** "iteration 20/300 | scale 1/2 192x144 | loss 1.234e+6 | eta 42s"; the last one says "converged" or "done". */
function progressLine(p: Progress): string {
  const state = p.converged
    ? 'converged'
    : p.iteration === p.iterations
      ? 'done'
      : `eta ${formatEta(p.etaMs)}`;
  return `iteration ${p.iteration}/${p.iterations} | scale ${p.scale}/${p.scales} ${p.width}x${p.height} | loss ${p.loss.toPrecision(4)} | ${state}`;
}

function progressLines(every: number, stream: NodeJS.WriteStream): ProgressView {
  return {
    update(p) {
      if (p.iteration % every === 0 || p.converged || p.iteration === p.iterations)
        stream.write(`${progressLine(p)}\n`);
    },
    stop() {},
  };
}

function progressBar(iterations: number, stream: NodeJS.WriteStream): ProgressView {
  const bar = new SingleBar({
    format: 'stylize |{bar}| {value}/{total} it | scale {scale} | loss {loss} | {state}',
    stream,
    hideCursor: true,
  });
  bar.start(iterations, 0, { scale: '-', loss: '-', state: '' });
  return {
    update(p) {
      // Stopped early: the bar ends full, at the iterations the painting took.
      if (p.converged) bar.setTotal(p.iteration);
      bar.update(p.iteration, {
        scale: `${p.scale}/${p.scales} ${p.width}x${p.height}`,
        loss: p.loss.toPrecision(4),
        state: p.converged ? 'converged' : `eta ${formatEta(p.etaMs)}`,
      });
    },
    stop: () => bar.stop(),
  };
}

/** "42s", "3m05s": the engine's estimate, an upper bound that drops when a scale converges early. */
function formatEta(ms: number): string {
  const seconds = Number.isFinite(ms) ? Math.round(ms / 1000) : 0;
  return seconds < 60
    ? `${seconds}s`
    : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}
