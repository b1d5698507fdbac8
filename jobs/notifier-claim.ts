import {
  type Deliveries,
  dispatch,
  FINAL,
  openPlatforms,
  type PendingJob,
  prepare,
  queueOf,
} from './notifier-dispatch.ts';

/** Jobs read per query. */
const BATCH = 50;

/**
 * One round of claims: the final states a stopped notifier left unfinished (resumeStale), then every marked
 * job in id order, in batches, while its platform's queue has room. Each claimed state is dispatched; returns
 * how many were. A write the database refuses throws out of the round (retried after a pause).
 */
export async function claimRound(d: Deliveries): Promise<number> {
  let claimed = await resumeStale(d);
  let after = 0;
  for (;;) {
    const platforms = openPlatforms(d);
    if (platforms.length === 0) return claimed;
    const jobs = await d.core.db.prisma.job.findMany({
      where: { eventPending: true, id: { gt: after }, server: { platform: { in: platforms } } },
      include: { server: true },
      orderBy: { id: 'asc' },
      take: BATCH,
    });
    for (const job of jobs) {
      after = job.id;
      if (await claimPending(d, job)) claimed++;
    }
    if (jobs.length < BATCH) return claimed;
  }
}

/**
 * Claims a marked job's latest state, by clearing the mark on the revision read (and, for a final state,
 * recording the intent to post it), and dispatches it; false where it was not this notifier's to pass on.
 */
async function claimPending(d: Deliveries, job: PendingJob): Promise<boolean> {
  // Its delivery under way ends with a wake-up; this newer state is taken then.
  if (d.delivering.has(job.id)) return false;
  if (queueOf(d, job).size >= d.concurrency) return false;
  const deliver = await prepare(d, job, { resumed: false });
  const final = FINAL.has(job.status);
  const { count } = await d.core.db.prisma.job.updateMany({
    where: { id: job.id, revision: job.revision, eventPending: true },
    data: { eventPending: false, ...(final ? { deliveringAt: new Date(), deliveredAt: null } : {}) },
  });
  // Not ours: the job changed again (its newer state is passed on next round) or another notifier has it.
  if (count === 0 || !deliver) return false;
  dispatch(d, job, deliver, final);
  return true;
}

/**
 * Final states whose intent a stopped notifier left (older than STALE_AFTER_MS, never recorded as posted): each
 * taken over and passed on again, resumed. Returns how many were.
 */
async function resumeStale(d: Deliveries): Promise<number> {
  const stale = await d.core.db.prisma.job.findMany({
    where: {
      deliveringAt: { lt: new Date(Date.now() - d.core.config.jobs.staleAfterMs) },
      deliveredAt: null,
      server: { platform: { in: openPlatforms(d) } },
    },
    include: { server: true },
    orderBy: { id: 'asc' },
    take: BATCH,
  });
  let resumed = 0;
  for (const job of stale) {
    if (await resumeOne(d, job)) resumed++;
  }
  return resumed;
}

/** Takes over one stale intent (its time compared and set in one write, so one notifier gets it) and dispatches it. */
async function resumeOne(d: Deliveries, job: PendingJob): Promise<boolean> {
  if (d.delivering.has(job.id) || !FINAL.has(job.status)) return false;
  const deliver = await prepare(d, job, { resumed: true });
  const { count } = await d.core.db.prisma.job.updateMany({
    where: { id: job.id, deliveringAt: job.deliveringAt, deliveredAt: null },
    data: { deliveringAt: new Date() },
  });
  if (count === 0 || !deliver) return false;
  d.core.log.warn(
    { jobId: job.id },
    'a final state whose posting was not recorded: checking the thread and posting what is missing',
  );
  dispatch(d, job, deliver, true);
  return true;
}
