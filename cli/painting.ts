import writeFileAtomic from 'write-file-atomic';
import {
  DEFAULT_TIMELAPSE,
  type Evaluator,
  type Progress,
  type RgbImage,
  resultImage,
  type StylizeRequest,
  type StylizeResult,
  stylize,
} from '../engine/index.ts';
import { encodeImage, type OutputFormat } from '../lib/images/index.ts';
import { progressView } from './progress.ts';

/** The exit status after Ctrl-C, as shells give a process that SIGINT ended (128 + 2). */
export const INTERRUPTED = 130;

/** The painting was stopped by Ctrl-C; the output holds the painting so far, when there was one. */
export class Interrupted extends Error {}

export interface PaintToFileOptions {
  out: string;
  format: OutputFormat;
  /** Iterations between progress lines (see progressView). */
  printEvery?: number | undefined;
  /** Iterations between saves of the painting so far to `out`; none when undefined. */
  saveEvery?: number | undefined;
  /** Keep the timelapse's frames in the result. */
  timelapse: boolean;
}

/**
 * Paints `request` and writes the result to `out`, whole (a temporary file renamed into place, so a viewer or
 * a script never reads half an image): also every `saveEvery` iterations, the painting so far at the final
 * size, as neural-style's `-save_iter`. The first Ctrl-C stops it after the current iteration, writes the
 * painting so far and throws {@link Interrupted}; a second one exits at once with status 130.
 */
export async function paintToFile(
  evaluator: Evaluator,
  request: StylizeRequest,
  options: PaintToFileOptions,
): Promise<StylizeResult> {
  const write = async (image: RgbImage) =>
    writeFileAtomic(options.out, await encodeImage(image, options.format));
  const saves = new SerialWrites();
  const view = progressView(options.printEvery, request.iterations);
  let latest: Progress | undefined;
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(INTERRUPTED);
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await stylize(evaluator, request, {
      signal: interrupt.signal,
      timelapse: options.timelapse ? DEFAULT_TIMELAPSE : undefined,
      progressEvery: { iterations: 1, ms: 0 },
      onProgress: (p) => {
        latest = p;
        view.update(p);
        const last = p.converged || p.iteration === p.iterations;
        if (options.saveEvery && p.iteration % options.saveEvery === 0 && !last) {
          saves.add(() => write(resultImage(request, p.preview)));
        }
      },
    }).catch(async (error: unknown) => {
      if (!interrupt.signal.aborted) throw error;
      view.stop();
      await saves.done();
      if (latest) await write(resultImage(request, latest.preview));
      throw new Interrupted(
        latest
          ? `interrupted at iteration ${latest.iteration} of ${latest.iterations}: wrote the painting so far to ${options.out}`
          : 'interrupted before the first iteration: nothing written',
      );
    });
    view.stop();
    await saves.done();
    await write(result.image);
    return result;
  } finally {
    view.stop();
    process.off('SIGINT', onSigint);
  }
}

/**
 * Writes run one after another, in the order added, without being awaited where they are added (the engine's
 * progress callback is synchronous); the first failure is thrown by `done`.
 */
class SerialWrites {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  add(write: () => Promise<void>): void {
    this.chain = this.chain.then(write).catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  async done(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }
}
