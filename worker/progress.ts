import type { Progress } from '../engine/index.ts';
import { abortableSleep, type Core, writeProgress } from '../jobs/worker-api.ts';
import { encodeImage } from '../lib/images/index.ts';
import type { Logger } from '../lib/log.ts';
import { type ActiveJob, RETRY_MAX_MS, RETRY_MIN_MS, stopJob } from './context.ts';

/** Where a running job's progress goes: the engine reports, the job's end closes it. */
export interface ProgressWriter {
  /** Takes the engine's latest report (synchronously): written once the write under way is done. */
  report(progress: Progress): void;
  /** No more writes: pending reports are dropped, and the write under way is waited for. */
  close(): Promise<void>;
}

/**
 * Writes a job's progress beside the engine (which reports synchronously): one write at a time, always of
 * the latest report (reports arriving during a write replace each other), and after a failed write the next
 * waits with backoff, so a database blip costs neither the attempt nor a flood of writes. A write that finds
 * the job cancelled or taken over stops the job.
 */
export function progressWriter(
  core: Pick<Core, 'db' | 'images'>,
  job: ActiveJob,
  jobLog: Logger,
): ProgressWriter {
  let latest: Progress | undefined;
  let writing: Promise<void> | undefined;
  const closed = new AbortController();
  async function drain(): Promise<void> {
    let wait = RETRY_MIN_MS;
    while (latest && !closed.signal.aborted) {
      const p = latest;
      latest = undefined;
      try {
        await write(core, job, p);
        wait = RETRY_MIN_MS;
      } catch (error) {
        jobLog.warn({ err: error, waitMs: wait }, 'could not write progress; retrying');
        latest ??= p;
        await abortableSleep(wait, closed.signal);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }
  return {
    report(p) {
      latest = p;
      writing ??= drain().finally(() => {
        writing = undefined;
      });
    },
    async close() {
      closed.abort();
      latest = undefined;
      await writing;
    },
  };
}

/** One progress write: the figures and the preview (a JPEG), on the job's lease. */
async function write(core: Pick<Core, 'db' | 'images'>, job: ActiveJob, p: Progress): Promise<void> {
  const preview = {
    mime: 'image/jpeg' as const,
    bytes: await encodeImage(p.preview, 'jpeg', { quality: 80 }),
  };
  const { iteration, converged, loss, etaMs } = p;
  const update = { iteration, converged, loss, etaMs, preview };
  const state = await writeProgress(core.db, core.images, job.lease, update, new Date());
  if (state !== 'ok') stopJob(job, state);
}
