import pg from 'pg';
import type { Core } from './core.ts';
import { JOB_EVENTS_CHANNEL } from './db.ts';
import { claimRound } from './notifier-claim.ts';
import { createDeliveries, type JobEventRoutes, refreshIntents } from './notifier-dispatch.ts';

export type { JobEventRoutes } from './notifier-dispatch.ts';

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

/**
 * Starts the notifier: its wait loop (claimRound on each wake-up or poll; claiming in notifier-claim.ts, the
 * deliveries in notifier-dispatch.ts) and the timer that keeps its posts' intents fresh.
 */
export function startNotifier(core: Core, routes: JobEventRoutes, options: NotifierOptions = {}): Notifier {
  const waits = wakeableSleep();
  const deliveries = createDeliveries(core, routes, options.concurrency ?? DELIVERY_CONCURRENCY, waits.wake);
  const claim = oneAtATime(() => claimRound(deliveries));
  const refresh = setInterval(() => refreshIntents(deliveries), core.config.jobs.heartbeatMs);
  refresh.unref();
  const listener = notificationListener(core, waits.wake);
  let stopped = false;
  const loop = waitLoop(core, { claim, listener, sleep: waits.sleep, stopped: () => stopped });

  return {
    async drain() {
      let total = 0;
      for (;;) {
        const claimed = await claim();
        total += claimed;
        await Promise.all(deliveries.delivering.values());
        if (claimed === 0) return total;
      }
    },
    async stop() {
      stopped = true;
      waits.wake();
      await loop;
      await Promise.all(deliveries.delivering.values());
      clearInterval(refresh);
      await listener.close();
    },
  };
}

/**
 * Claims until stopped: on PostgreSQL at each notification, with a poll every pollMaxMs as a safety net; on
 * SQLite by polling, from pollMinMs, doubling while nothing happens up to pollMaxMs. A round that fails (the
 * database cannot be read or refuses writes) is tried again after pollMaxMs.
 */
async function waitLoop(
  core: Core,
  run: {
    claim: () => Promise<number>;
    listener: NotificationListener;
    sleep: (ms: number) => Promise<void>;
    stopped: () => boolean;
  },
): Promise<void> {
  const { db, log } = core;
  const { pollMinMs, pollMaxMs } = core.config.jobs;
  let delay = pollMinMs;
  while (!run.stopped()) {
    try {
      if (db.provider === 'postgresql') await run.listener.connect();
      const claimed = await run.claim();
      delay =
        db.provider === 'postgresql' ? pollMaxMs : claimed > 0 ? pollMinMs : Math.min(delay * 2, pollMaxMs);
    } catch (error) {
      log.error({ err: error }, 'job events could not be read or recorded; retrying');
      delay = pollMaxMs;
    }
    if (!run.stopped()) await run.sleep(delay);
  }
}

/** One round of claims at a time: a caller arriving during one waits for it and then claims again. */
function oneAtATime(round: () => Promise<number>): () => Promise<number> {
  let claiming: Promise<number> | undefined;
  return async () => {
    while (claiming) await claiming.catch(() => {});
    claiming = round();
    try {
      return await claiming;
    } finally {
      claiming = undefined;
    }
  };
}

/** Sleeps that `wake` ends at once: the latest one, the wait loop's. */
function wakeableSleep(): { sleep(ms: number): Promise<void>; wake(): void } {
  let wake: (() => void) | undefined;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    wake: () => wake?.(),
  };
}

interface NotificationListener {
  /** LISTENs on a connection of its own, unless it already does; throws where it cannot connect. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL's notifications of job changes (NOTIFY from the workers), each calling `wake`. */
function notificationListener(core: Core, wake: () => void): NotificationListener {
  let listener: pg.Client | undefined;
  return {
    async connect() {
      if (listener) return;
      const client = new pg.Client({ connectionString: core.db.url });
      client.on('notification', () => wake());
      client.on('error', (error) => {
        core.log.warn({ err: error }, 'lost the PostgreSQL notification connection; reconnecting');
        if (listener === client) listener = undefined;
        client.end().catch(() => {});
      });
      await client.connect();
      await client.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
      listener = client;
    },
    async close() {
      await listener?.end().catch(() => {});
    },
  };
}
