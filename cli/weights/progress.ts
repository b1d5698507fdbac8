import cliProgress from 'cli-progress';
import type { DownloadProgress } from './download.ts';

/** An `onProgress` callback that draws a bar; call `stop()` when the download ends, however it ends. */
export type CliProgressReporter = ((progress: DownloadProgress) => void) & { stop(): void };

export interface CliProgressReporterOptions {
  /** Where to draw (default process.stderr, so stdout stays clean for `--json`-style output). */
  readonly stream?: NodeJS.WritableStream;
  /** Draw even when the stream is not a terminal (tests, logs); off by default. */
  readonly noTTYOutput?: boolean;
}

/**
 * A terminal progress bar for {@link downloadWeights} (cli-progress): overall bytes, speed-based ETA and the
 * shard being fetched. The CLI passes it as `onProgress` when its output is a TTY:
 *
 *   const progress = cliProgressReporter();
 *   try { await downloadWeights({ onProgress: progress }); } finally { progress.stop(); }
 */
export function cliProgressReporter(opts: CliProgressReporterOptions = {}): CliProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream: opts.stream ?? process.stderr,
      noTTYOutput: opts.noTTYOutput ?? false,
      format: 'VGG-19 weights [{bar}] {percentage}% | {done}/{size} MB | ETA {eta_formatted} | {file}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  const report = (p: DownloadProgress): void => {
    if (stopped) return;
    const payload = { file: p.file, done: mb(p.overallReceived), size: mb(p.overallTotal) };
    if (!started) {
      started = true;
      bar.start(Math.max(1, p.overallTotal), p.overallReceived, payload);
    } else {
      if (bar.getTotal() !== Math.max(1, p.overallTotal)) bar.setTotal(Math.max(1, p.overallTotal));
      bar.update(p.overallReceived, payload);
    }
  };
  return Object.assign(report, {
    stop(): void {
      if (stopped) return;
      stopped = true;
      if (started) bar.stop();
    },
  });
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
