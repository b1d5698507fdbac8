import pg from 'pg';
import type { Core } from './core.ts';
import { JOB_EVENTS_CHANNEL, type JobRow, type ServerRow } from './db.ts';
import type { JobEvents } from './events.ts';
import { toJobView } from './jobs.ts';

/**
 * Passes job changes from the database to the chat adapters (JobEvents). Workers mark every change they write
 * (eventPending, revision); this drains the marked jobs and passes each job's latest state on. State is in the
 * database, so a bot restart loses no event. It wakes on PostgreSQL's LISTEN/NOTIFY, with a slow poll as a
 * safety net; on SQLite, which has no notifications, it polls, backing off from pollMinMs to pollMaxMs while
 * nothing happens.
 *
 * Each revision of a job is passed on at most once: the mark is cleared (on that revision only) before the
 * adapters are called, and they are called only if this notifier cleared it. So an event whose delivery cannot
 * be recorded (the database refuses writes) is held back until it can be, rather than repeated at every poll;
 * a bot that dies while an adapter posts a final result does not post it again when it restarts; and of two
 * notifiers (a restart overlapping the old process), one passes each event on. Everything the adapters are
 * given (the images) is read before the mark is cleared, so a failed read leaves the event for the next round.
 */
export interface Notifier {
  /** Delivers everything pending now; resolves with how many job changes it passed on. */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

const BATCH = 50;

export function startNotifier(core: Core, events: JobEvents): Notifier {
  const { db, log } = core;
  const { pollMinMs, pollMaxMs } = core.config.jobs;
  let stopped = false;
  let wake: (() => void) | undefined;
  let listener: pg.Client | undefined;
  let draining: Promise<number> | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: db.url });
    client.on('notification', () => wake?.());
    client.on('error', (error) => {
      log.warn({ err: error }, 'lost the PostgreSQL notification connection; reconnecting');
      if (listener === client) listener = undefined;
      client.end().catch(() => {});
    });
    await client.connect();
    await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
    listener = client;
  }

  /** Reads what the event needs and returns the adapter call that passes it on (undefined: nothing to tell). */
  async function prepare(job: JobRow & { server: ServerRow }): Promise<(() => Promise<void>) | undefined> {
    const view = toJobView(job);
    switch (view.status) {
      case 'running': {
        const preview = job.previewRef ? await core.images.get(job.previewRef) : undefined;
        const { iteration, loss, etaMs, converged } = view;
        const progress = { iteration, iterations: view.options.iterations, loss, etaMs, preview, converged };
        return () => events.progress(view, progress);
      }
      case 'succeeded': {
        const result = job.resultRef ? await core.images.get(job.resultRef) : undefined;
        const comparison = job.comparisonRef ? await core.images.get(job.comparisonRef) : undefined;
        if (result && comparison) return () => events.completed(view, { result, comparison });
        return () => events.failed(view, 'The painting was finished, but its images are no longer stored.');
      }
      case 'failed':
        return () => events.failed(view, view.error ?? 'The painting failed; please try again.');
      case 'cancelled':
        return () => events.cancelled(view);
      case 'queued':
        return undefined; // taken back from a worker that went away: nothing to tell until it starts again
    }
  }

  async function drainOnce(): Promise<number> {
    let delivered = 0;
    let after = 0;
    for (;;) {
      const jobs = await db.prisma.job.findMany({
        where: { eventPending: true, id: { gt: after } },
        include: { server: true },
        orderBy: { id: 'asc' },
        take: BATCH,
      });
      for (const job of jobs) {
        after = job.id;
        const fields = { jobId: job.id, server: job.server.externalId, platform: job.server.platform };
        const deliver = await prepare(job);
        // A write that fails throws out of the drain (the database refuses writes: retry after a pause).
        const { count } = await db.prisma.job.updateMany({
          where: { id: job.id, revision: job.revision, eventPending: true },
          data: { eventPending: false },
        });
        // Not ours: the job changed again (its newer state is passed on next round) or another notifier has it.
        if (count === 0 || !deliver) continue;
        try {
          await deliver();
        } catch (error) {
          log.error({ ...fields, err: error }, 'a chat adapter failed to handle a job event');
        }
        delivered++;
      }
      if (jobs.length < BATCH) return delivered;
    }
  }

  // One drain at a time: a caller arriving during a drain waits for it and then drains again.
  async function drain(): Promise<number> {
    while (draining) await draining.catch(() => {});
    draining = drainOnce();
    try {
      return await draining;
    } finally {
      draining = undefined;
    }
  }

  const loop = (async () => {
    let delay = pollMinMs;
    while (!stopped) {
      try {
        if (db.provider === 'postgresql' && !listener) await listen();
        const delivered = await drain();
        delay =
          db.provider === 'postgresql'
            ? pollMaxMs
            : delivered > 0
              ? pollMinMs
              : Math.min(delay * 2, pollMaxMs);
      } catch (error) {
        log.error({ err: error }, 'job events could not be read or recorded; retrying');
        delay = pollMaxMs;
      }
      if (!stopped) await sleep(delay);
    }
  })();

  return {
    drain,
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await listener?.end().catch(() => {});
    },
  };
}
