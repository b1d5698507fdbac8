import PQueue from 'p-queue';
import type { Core } from './core.ts';
import type { JobRow, ServerRow } from './db.ts';
import type { FinalDelivery, JobEvents } from './events.ts';
import { type JobView, toJobView } from './jobs.ts';
import { PLATFORMS, type Platform } from './servers.ts';

/** The adapter of each platform that this bot serves. */
export type JobEventRoutes = Partial<Record<Platform, JobEvents>>;

/** A job whose state is to be passed on, with its server (its platform). */
export type PendingJob = JobRow & { server: ServerRow };

/** The job states that are posted once, and whose posting is recorded (see notifier.ts). */
export const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * The notifier's deliveries: one queue per platform (p-queue, `concurrency` at once), the delivery under way of
 * each job (one at a time per job), and the final states being posted, whose intent is kept fresh.
 */
export interface Deliveries {
  readonly core: Core;
  readonly routes: JobEventRoutes;
  /** Deliveries under way at once, per platform. */
  readonly concurrency: number;
  readonly queues: ReadonlyMap<Platform, PQueue>;
  /** Per job: the delivery under way. */
  readonly delivering: Map<number, Promise<void>>;
  /** The final states this notifier is posting: their intent is refreshed until they are recorded. */
  readonly posting: Set<number>;
  /** Told when a delivery ends: the job's newer state, left marked meanwhile, is to be claimed. */
  readonly onDelivered: () => void;
}

/** Empty deliveries: a queue per platform of `concurrency`; `onDelivered` is told as each delivery ends. */
export function createDeliveries(
  core: Core,
  routes: JobEventRoutes,
  concurrency: number,
  onDelivered: () => void,
): Deliveries {
  const queues = new Map<Platform, PQueue>(PLATFORMS.map((p) => [p, new PQueue({ concurrency })]));
  return { core, routes, concurrency, queues, delivering: new Map(), posting: new Set(), onDelivered };
}

/** The delivery queue of the job's platform. */
export const queueOf = (d: Deliveries, job: PendingJob) => d.queues.get(job.server.platform as Platform)!;

/** The platforms whose queue has room: events of the others stay marked until it has. */
export const openPlatforms = (d: Deliveries) =>
  PLATFORMS.filter((p) => d.queues.get(p)!.size < d.concurrency);

/**
 * The adapter call that passes the job's state on (undefined: nothing to tell), after reading what it needs (the
 * images), so that a failed read throws before the event is claimed and leaves it for the next round.
 */
export async function prepare(
  d: Deliveries,
  job: PendingJob,
  delivery: FinalDelivery,
): Promise<(() => Promise<void>) | undefined> {
  const view = toJobView(job);
  const events = adapterOf(d, view);
  const log = d.core.log;
  const fields = { jobId: view.id, server: view.server, platform: view.platform };
  switch (view.status) {
    case 'running': {
      const preview = job.previewRef ? await d.core.images.get(job.previewRef) : undefined;
      const { iteration, loss, etaMs, converged } = view;
      const progress = { iteration, iterations: view.options.iterations, loss, etaMs, preview, converged };
      return () => {
        log.debug({ ...fields, iteration, iterations: progress.iterations, etaMs }, 'job progress');
        return events.progress(view, progress);
      };
    }
    case 'succeeded':
      return prepareCompleted(d, job, view, delivery);
    case 'failed':
      return failed(d, view, view.error ?? 'The painting failed; please try again.', delivery);
    case 'cancelled':
      return () => {
        log.info({ ...fields, ...resumed(delivery) }, 'job cancelled');
        return events.cancelled(view, delivery);
      };
    case 'queued':
      return undefined; // taken back from a worker that went away: nothing to tell until it starts again
  }
}

/** A succeeded job's post, with its two images; a failure where they are no longer stored. */
async function prepareCompleted(d: Deliveries, job: PendingJob, view: JobView, delivery: FinalDelivery) {
  const { images, log } = d.core;
  const result = job.resultRef ? await images.get(job.resultRef) : undefined;
  const comparison = job.comparisonRef ? await images.get(job.comparisonRef) : undefined;
  if (!result || !comparison) {
    return failed(d, view, 'The painting was finished, but its images are no longer stored.', delivery);
  }
  return () => {
    const fields = { jobId: view.id, server: view.server, platform: view.platform };
    log.info({ ...fields, resultBytes: result.bytes.length, ...resumed(delivery) }, 'job completed');
    return adapterOf(d, view).completed(view, { result, comparison }, delivery);
  };
}

function failed(d: Deliveries, view: JobView, message: string, delivery: FinalDelivery) {
  return () => {
    const fields = { jobId: view.id, server: view.server, platform: view.platform };
    d.core.log.warn({ ...fields, message, ...resumed(delivery) }, 'job failed');
    return adapterOf(d, view).failed(view, message, delivery);
  };
}

/**
 * Runs one job's delivery in its platform's queue; a final state's completion is recorded after it, also when
 * the adapter failed (its error is logged: a post that fails is not tried again, as a progress edit is not).
 */
export function dispatch(d: Deliveries, job: PendingJob, deliver: () => Promise<void>, final: boolean): void {
  const fields = { jobId: job.id, server: job.server.externalId, platform: job.server.platform };
  if (final) d.posting.add(job.id);
  const task = queueOf(d, job)
    .add(async () => {
      try {
        await deliver();
      } catch (error) {
        d.core.log.error({ ...fields, err: error }, 'a chat adapter failed to handle a job event');
      }
      if (final) await recordPosted(d, job);
    })
    .finally(() => {
      d.posting.delete(job.id);
      d.delivering.delete(job.id);
      d.onDelivered();
    });
  d.delivering.set(job.id, task);
}

/** Records that the job's final state was posted; if this write fails, the intent grows stale and it is resumed. */
async function recordPosted(d: Deliveries, job: PendingJob): Promise<void> {
  await d.core.db.prisma.job
    .updateMany({
      where: { id: job.id, deliveredAt: null },
      data: { deliveringAt: null, deliveredAt: new Date() },
    })
    .catch((error: unknown) =>
      d.core.log.error(
        { jobId: job.id, server: job.server.externalId, platform: job.server.platform, err: error },
        'could not record that a final state was posted; it is checked again later',
      ),
    );
}

/** Keeps this notifier's intents fresh while their posts run, so no other notifier takes them over. */
export function refreshIntents(d: Deliveries): void {
  if (d.posting.size === 0) return;
  d.core.db.prisma.job
    .updateMany({
      where: { id: { in: [...d.posting] }, deliveredAt: null },
      data: { deliveringAt: new Date() },
    })
    .catch((error: unknown) =>
      d.core.log.warn({ err: error }, 'could not refresh the final states being posted'),
    );
}

/** The adapter of the job's platform; a platform this bot does not serve gets the log line only. */
const adapterOf = (d: Deliveries, view: JobView) => d.routes[view.platform] ?? LOG_ONLY;

const resumed = (delivery: FinalDelivery) => (delivery.resumed ? { resumed: true } : {});

/** The events of a platform this bot does not serve: the notifier's log line is all there is. */
const LOG_ONLY: JobEvents = {
  progress: async () => {},
  completed: async () => {},
  failed: async () => {},
  cancelled: async () => {},
};
