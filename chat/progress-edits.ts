import { LRUCache } from 'lru-cache';
import PQueue from 'p-queue';

/**
 * A job's progress message, edited "latest state wins": the first state reported is written at once, later ones
 * at most once per `intervalMs` (p-queue's `intervalCap: 1`), each edit showing the newest state reported by the
 * time it starts, so the states in between are never written and an edit is never out of date by more than one
 * interval. One edit at a time per job; reporting never waits, so the notifier is never held up.
 *
 * The end of a job drops what is pending and waits for the edit under way (whose `signal` then fires, so an edit
 * still waiting for its turn to write can give up): the final messages come after the last progress edit, and
 * reports that arrive later are ignored.
 */
export interface ProgressEdits<S> {
  /** Remembers `state` as the job's latest; returns at once. */
  report(jobId: number, state: S): void;
  /** Ends the job's edits. Resolves false when it had already ended (a repeated end event). */
  end(jobId: number): Promise<boolean>;
  /** Drops what is pending everywhere and waits for the edits under way. */
  stop(): Promise<void>;
}

interface JobEdits<S> {
  readonly queue: PQueue;
  readonly ended: AbortController;
  latest: S | undefined;
  /** An edit is queued that has not started: it will take `latest` when it does. */
  waiting: boolean;
}

/** Jobs remembered as ended, so that late reports and repeated ends are ignored. */
const ENDED_KEPT = 10_000;

/** `edit` writes one state; it should handle (log) its own failures: a rejection is dropped here. */
export function progressEdits<S>(options: {
  intervalMs: number;
  edit: (jobId: number, state: S, ended: AbortSignal) => Promise<void>;
}): ProgressEdits<S> {
  const jobs = new Map<number, JobEdits<S>>();
  const ended = new LRUCache<number, true>({ max: ENDED_KEPT });
  let stopped = false;

  return {
    report(jobId, state) {
      if (stopped || ended.has(jobId)) return;
      let job = jobs.get(jobId);
      if (!job) {
        const queue = new PQueue({ concurrency: 1, intervalCap: 1, interval: options.intervalMs });
        job = { queue, ended: new AbortController(), latest: undefined, waiting: false };
        jobs.set(jobId, job);
      }
      job.latest = state;
      if (job.waiting) return;
      job.waiting = true;
      const edits = job;
      void edits.queue
        .add(async () => {
          edits.waiting = false;
          const latest = edits.latest;
          edits.latest = undefined;
          if (latest !== undefined) await options.edit(jobId, latest, edits.ended.signal);
        })
        .catch(() => {});
    },

    async end(jobId) {
      if (ended.has(jobId)) return false;
      ended.set(jobId, true);
      const job = jobs.get(jobId);
      if (job) {
        jobs.delete(jobId);
        job.queue.clear();
        job.ended.abort();
        await job.queue.onIdle();
      }
      return true;
    },

    async stop() {
      stopped = true;
      for (const job of jobs.values()) {
        job.queue.clear();
        job.ended.abort();
      }
      await Promise.all([...jobs.values()].map((job) => job.queue.onIdle()));
      jobs.clear();
    },
  };
}
