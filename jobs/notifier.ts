import PQueue from 'p-queue';
import pg from 'pg';
import type { Core } from './core.ts';
import { JOB_EVENTS_CHANNEL, type JobRow, type ServerRow } from './db.ts';
import type { FinalDelivery, JobEvents } from './events.ts';
import { type JobView, toJobView } from './jobs.ts';
import { PLATFORMS, type Platform } from './servers.ts';

/**
 * Passes job changes from the database to the chat adapters (JobEvents), each to the adapter of the job's
 * platform. Workers mark every change they write (eventPending, revision); this drains the marked jobs and passes
 * each job's latest state on. State is in the database, so a bot restart loses no event. It wakes on PostgreSQL's
 * LISTEN/NOTIFY, with a slow poll as a safety net; on SQLite, which has no notifications, it polls, backing off
 * from pollMinMs to pollMaxMs while nothing happens.
 *
 * Deliveries run concurrently, up to `concurrency` at once per platform (p-queue), so a slow platform (Discord
 * waiting out a 429) holds up neither the other platform nor its own other jobs beyond that bound. One job's
 * states go out one at a time, in order: while one is being delivered the job's newer state stays marked in the
 * database and is taken, as the latest, when that delivery ends.
 *
 * Progress: each revision is passed on at most once. The mark is cleared (on that revision only) before the
 * adapter is called, and it is called only if this notifier cleared it; so a progress event whose delivery
 * cannot be recorded (the database refuses writes) is held back until it can be, rather than repeated at every
 * poll, and of two notifiers (a restart overlapping the old process) one passes it on.
 *
 * A final state (the result, a failure, a cancellation) is posted once: clearing the mark also records the
 * intent (deliveringAt, refreshed every HEARTBEAT_MS while the adapter posts), the adapter posts, and then the
 * completion is recorded (deliveredAt). An intent without completion older than STALE_AFTER_MS was left by a bot
 * that died mid-post or could not record the completion: it is passed on again, `resumed`, and the adapter looks
 * in the job's thread for what it posted before posting the rest. Everything the adapter is given (the images)
 * is read before the mark is cleared, so a failed read leaves the event for the next round.
 *
 * A platform without an adapter here (not configured in this bot) has its events logged and passed on to
 * nobody, as a bot without any chat platform logs every event.
 */
export interface Notifier {
  /** Delivers everything pending now and waits for it; resolves with how many job states it passed on. */
  drain(): Promise<number>;
  /** Stops reading events and waits for the deliveries under way. */
  stop(): Promise<void>;
}

/** The adapter of each platform that this bot serves. */
export type JobEventRoutes = Partial<Record<Platform, JobEvents>>;

export interface NotifierOptions {
  /** Deliveries under way at once, per platform (default {@link DELIVERY_CONCURRENCY}). */
  concurrency?: number;
}

/**
 * Far more than a platform's rate limits let through at once (Discord: 50 requests a second per bot, Slack's
 * tiers a minute), so that slow calls rather than this bound decide the pace; and small enough that a platform
 * that hangs holds a bounded number of events.
 */
export const DELIVERY_CONCURRENCY = 16;
const BATCH = 50;
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

type PendingJob = JobRow & { server: ServerRow };

export function startNotifier(core: Core, routes: JobEventRoutes, options: NotifierOptions = {}): Notifier {
  const { db, log } = core;
  const { pollMinMs, pollMaxMs, heartbeatMs, staleAfterMs } = core.config.jobs;
  const concurrency = options.concurrency ?? DELIVERY_CONCURRENCY;
  const queues = new Map<Platform, PQueue>(PLATFORMS.map((p) => [p, new PQueue({ concurrency })]));
  /** Per job: the delivery under way. */
  const delivering = new Map<number, Promise<void>>();
  /** The final states this notifier is posting: their intent is refreshed until they are recorded. */
  const posting = new Set<number>();
  let stopped = false;
  let wake: (() => void) | undefined;
  let listener: pg.Client | undefined;
  let claiming: Promise<number> | undefined;

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

  /** The adapter call that passes the job's state on (undefined: nothing to tell), after reading what it needs. */
  async function prepare(job: PendingJob, delivery: FinalDelivery) {
    const view = toJobView(job);
    const events = routes[view.platform] ?? LOG_ONLY;
    const fields = { jobId: view.id, server: view.server, platform: view.platform };
    switch (view.status) {
      case 'running': {
        const preview = job.previewRef ? await core.images.get(job.previewRef) : undefined;
        const { iteration, loss, etaMs, converged } = view;
        const progress = { iteration, iterations: view.options.iterations, loss, etaMs, preview, converged };
        return () => {
          log.debug({ ...fields, iteration, iterations: progress.iterations, etaMs }, 'job progress');
          return events.progress(view, progress);
        };
      }
      case 'succeeded': {
        const result = job.resultRef ? await core.images.get(job.resultRef) : undefined;
        const comparison = job.comparisonRef ? await core.images.get(job.comparisonRef) : undefined;
        if (result && comparison) {
          return () => {
            log.info({ ...fields, resultBytes: result.bytes.length, ...resumed(delivery) }, 'job completed');
            return events.completed(view, { result, comparison }, delivery);
          };
        }
        return failed(view, 'The painting was finished, but its images are no longer stored.', delivery);
      }
      case 'failed':
        return failed(view, view.error ?? 'The painting failed; please try again.', delivery);
      case 'cancelled':
        return () => {
          log.info({ ...fields, ...resumed(delivery) }, 'job cancelled');
          return events.cancelled(view, delivery);
        };
      case 'queued':
        return undefined; // taken back from a worker that went away: nothing to tell until it starts again
    }
  }

  function failed(view: JobView, message: string, delivery: FinalDelivery) {
    return () => {
      const fields = { jobId: view.id, server: view.server, platform: view.platform };
      log.warn({ ...fields, message, ...resumed(delivery) }, 'job failed');
      return (routes[view.platform] ?? LOG_ONLY).failed(view, message, delivery);
    };
  }

  /**
   * Runs one job's delivery in its platform's queue; a final state's completion is recorded after it, also when
   * the adapter failed (its error is logged: a post that fails is not tried again, as a progress edit is not).
   */
  function dispatch(job: PendingJob, deliver: () => Promise<void>, final: boolean): void {
    const fields = { jobId: job.id, server: job.server.externalId, platform: job.server.platform };
    if (final) posting.add(job.id);
    const task = queueOf(job)
      .add(async () => {
        try {
          await deliver();
        } catch (error) {
          log.error({ ...fields, err: error }, 'a chat adapter failed to handle a job event');
        }
        if (!final) return;
        // If this write fails, the intent grows stale and the state is passed on again, resumed.
        await db.prisma.job
          .updateMany({
            where: { id: job.id, deliveredAt: null },
            data: { deliveringAt: null, deliveredAt: new Date() },
          })
          .catch((error: unknown) =>
            log.error(
              { ...fields, err: error },
              'could not record that a final state was posted; it is checked again later',
            ),
          );
      })
      .finally(() => {
        posting.delete(job.id);
        delivering.delete(job.id);
        wake?.();
      });
    delivering.set(job.id, task);
  }

  const queueOf = (job: PendingJob) => queues.get(job.server.platform as Platform)!;
  /** The platforms whose queue has room: events of the others stay marked until it has. */
  const open = () => PLATFORMS.filter((p) => queues.get(p)!.size < concurrency);

  /**
   * Final states whose intent a stopped notifier left: each taken over (the intent's time compared and set in one
   * write, so one notifier gets it) and passed on again, resumed.
   */
  async function resumeStale(): Promise<number> {
    const stale = await db.prisma.job.findMany({
      where: {
        deliveringAt: { lt: new Date(Date.now() - staleAfterMs) },
        deliveredAt: null,
        server: { platform: { in: open() } },
      },
      include: { server: true },
      orderBy: { id: 'asc' },
      take: BATCH,
    });
    let resumedCount = 0;
    for (const job of stale) {
      if (delivering.has(job.id) || !FINAL.has(job.status)) continue;
      const deliver = await prepare(job, { resumed: true });
      const { count } = await db.prisma.job.updateMany({
        where: { id: job.id, deliveringAt: job.deliveringAt, deliveredAt: null },
        data: { deliveringAt: new Date() },
      });
      if (count === 0 || !deliver) continue;
      log.warn(
        { jobId: job.id },
        'a final state whose posting was not recorded: checking the thread and posting what is missing',
      );
      dispatch(job, deliver, true);
      resumedCount++;
    }
    return resumedCount;
  }

  async function claimOnce(): Promise<number> {
    let claimed = await resumeStale();
    let after = 0;
    for (;;) {
      const platforms = open();
      if (platforms.length === 0) return claimed;
      const jobs = await db.prisma.job.findMany({
        where: { eventPending: true, id: { gt: after }, server: { platform: { in: platforms } } },
        include: { server: true },
        orderBy: { id: 'asc' },
        take: BATCH,
      });
      for (const job of jobs) {
        after = job.id;
        // Its delivery under way ends with a wake-up; this newer state is taken then.
        if (delivering.has(job.id)) continue;
        if (queueOf(job).size >= concurrency) continue;
        const deliver = await prepare(job, { resumed: false });
        const final = FINAL.has(job.status);
        // A write that fails throws out of the round (the database refuses writes: retry after a pause).
        const { count } = await db.prisma.job.updateMany({
          where: { id: job.id, revision: job.revision, eventPending: true },
          data: { eventPending: false, ...(final ? { deliveringAt: new Date(), deliveredAt: null } : {}) },
        });
        // Not ours: the job changed again (its newer state is passed on next round) or another notifier has it.
        if (count === 0 || !deliver) continue;
        dispatch(job, deliver, final);
        claimed++;
      }
      if (jobs.length < BATCH) return claimed;
    }
  }

  // One round of claims at a time: a caller arriving during one waits for it and then claims again.
  async function claim(): Promise<number> {
    while (claiming) await claiming.catch(() => {});
    claiming = claimOnce();
    try {
      return await claiming;
    } finally {
      claiming = undefined;
    }
  }

  /** Keeps this notifier's intents fresh while their posts run, so no other notifier takes them over. */
  const refresh = setInterval(() => {
    if (posting.size === 0) return;
    db.prisma.job
      .updateMany({
        where: { id: { in: [...posting] }, deliveredAt: null },
        data: { deliveringAt: new Date() },
      })
      .catch((error: unknown) => log.warn({ err: error }, 'could not refresh the final states being posted'));
  }, heartbeatMs);
  refresh.unref();

  const loop = (async () => {
    let delay = pollMinMs;
    while (!stopped) {
      try {
        if (db.provider === 'postgresql' && !listener) await listen();
        const claimed = await claim();
        delay =
          db.provider === 'postgresql' ? pollMaxMs : claimed > 0 ? pollMinMs : Math.min(delay * 2, pollMaxMs);
      } catch (error) {
        log.error({ err: error }, 'job events could not be read or recorded; retrying');
        delay = pollMaxMs;
      }
      if (!stopped) await sleep(delay);
    }
  })();

  return {
    async drain() {
      let total = 0;
      for (;;) {
        const claimed = await claim();
        total += claimed;
        await Promise.all(delivering.values());
        if (claimed === 0) return total;
      }
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await Promise.all(delivering.values());
      clearInterval(refresh);
      await listener?.end().catch(() => {});
    },
  };
}

const resumed = (delivery: FinalDelivery) => (delivery.resumed ? { resumed: true } : {});

/** The events of a platform this bot does not serve: the notifier's log line is all there is. */
const LOG_ONLY: JobEvents = {
  progress: async () => {},
  completed: async () => {},
  failed: async () => {},
  cancelled: async () => {},
};
