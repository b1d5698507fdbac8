import type { Client, JobRow } from './db.ts';
import { decodeWorkOptions } from './job-row.ts';

/**
 * Queue positions and ready-time estimates, for members ("queued, position N, ready in about M minutes") and
 * admins (the queue listing). The order mirrors the claim (scheduler.ts): servers round-robin by when one of
 * their jobs last started, each server's jobs in the order they were accepted (job id). Running limits and
 * cancellations can change it; barring those, a job starts at the position it was told.
 */
export interface QueuedJob extends WorkColumns {
  id: number;
  serverId: number;
  requesterId: string;
  /** 1 for the job that starts next. */
  position: number;
}

/** The columns a job's work is computed from; decoded only by an estimate, for the jobs ahead of the one asked about. */
type WorkColumns = Pick<JobRow, 'options' | 'pixels'>;

/**
 * A job's work in megapixel-iterations, the unit of the workers' measured speed (workers.ts), and its iterations.
 * Jobs accepted before their pixels were recorded count as square, the most their size allows.
 */
function jobWork(job: WorkColumns): { work: number; iterations: number } {
  const { size, iterations } = decodeWorkOptions(job);
  return { work: ((job.pixels ?? size * size) * iterations) / 1e6, iterations };
}

export async function queueOrder(prisma: Client): Promise<QueuedJob[]> {
  const jobs = await prisma.job.findMany({
    where: { status: 'queued', cancelRequested: false },
    select: { id: true, serverId: true, requesterId: true, options: true, pixels: true },
    orderBy: { id: 'asc' },
  });
  const byServer = new Map<number, typeof jobs>();
  for (const job of jobs) {
    const list = byServer.get(job.serverId);
    if (list) list.push(job);
    else byServer.set(job.serverId, [job]);
  }
  const servers = await prisma.server.findMany({
    where: { id: { in: [...byServer.keys()] } },
    select: { id: true, lastClaimedAt: true },
  });
  const lastClaimed = new Map(servers.map((s) => [s.id, s.lastClaimedAt?.getTime() ?? -Infinity]));
  const order = [...byServer.entries()].sort(
    ([a, aJobs], [b, bJobs]) => lastClaimed.get(a)! - lastClaimed.get(b)! || aJobs[0]!.id - bJobs[0]!.id,
  );
  // Round r takes every server's r-th job, servers in the order above: a claim sends its server to the back.
  const result: QueuedJob[] = [];
  const rounds = Math.max(0, ...order.map(([, serverJobs]) => serverJobs.length));
  for (let round = 0; round < rounds; round++) {
    for (const [, serverJobs] of order) {
      const job = serverJobs[round];
      if (!job) continue;
      result.push({ ...job, position: result.length + 1 });
    }
  }
  return result;
}

/**
 * Milliseconds until the last of `queued` is done, where `queued` is the queue from its head to that job. The
 * live workers' slots first finish the running jobs (their own estimates, else their work left), then take
 * the queued jobs in order, each slot painting at the measured speed of the workers (megapixel-iterations per
 * second per slot, the mean over the live workers that measured theirs, else the latest any worker measured).
 * Null when no worker is alive or none has measured its speed yet: then there is nothing honest to tell.
 */
export async function estimateMs(
  prisma: Client,
  queued: readonly QueuedJob[],
  opts: { staleAfterMs: number; now: Date },
): Promise<number | null> {
  const since = new Date(opts.now.getTime() - opts.staleAfterMs);
  const [{ slots, speed }, running] = await Promise.all([
    slotSpeed(prisma, since),
    prisma.job.findMany({
      where: { status: 'running' },
      select: { options: true, pixels: true, iteration: true, etaMs: true },
    }),
  ]);
  if (slots === 0 || speed === undefined) return null;

  const msFor = (work: number) => (work / speed) * 1000;
  const left = (job: (typeof running)[number]) => {
    const { work, iterations } = jobWork(job);
    return msFor(work * Math.max(0, 1 - job.iteration / iterations));
  };
  // When each slot is next free, in ms from now; a list scheduler, as the workers' claims are.
  const free = new Array<number>(slots).fill(0);
  const next = () => free.indexOf(Math.min(...free));
  for (const job of running) free[next()]! += job.etaMs ?? left(job);
  let done = 0;
  for (const job of queued) {
    const slot = next();
    free[slot]! += msFor(jobWork(job).work);
    done = free[slot]!;
  }
  return Math.round(done);
}

/**
 * The slots of the workers seen since `since`, and the speed of one slot (megapixel-iterations per second): the
 * mean over those that measured theirs, weighted by their slots, else the latest any worker measured.
 */
async function slotSpeed(prisma: Client, since: Date): Promise<{ slots: number; speed: number | undefined }> {
  const workers = await prisma.worker.findMany({
    where: { lastSeenAt: { gte: since } },
    select: { concurrency: true, speed: true },
  });
  const slots = workers.reduce((sum, w) => sum + w.concurrency, 0);
  const measured = workers.filter((w) => w.speed !== null && w.speed > 0);
  if (measured.length > 0) {
    const weighted = measured.reduce((sum, w) => sum + w.speed! * w.concurrency, 0);
    return { slots, speed: weighted / measured.reduce((sum, w) => sum + w.concurrency, 0) };
  }
  const latest = await prisma.worker.findFirst({
    where: { speed: { gt: 0 } },
    orderBy: { lastSeenAt: 'desc' },
    select: { speed: true },
  });
  return { slots, speed: latest?.speed ?? undefined };
}

/** Where a job stands: its place and expected wait while queued, the worker's own estimate while running. */
export async function standing(
  prisma: Client,
  jobId: number,
  opts: { staleAfterMs: number; now: Date },
): Promise<{ position: number | null; etaMs: number | null }> {
  const job = await prisma.job.findUnique({ where: { id: jobId }, select: { status: true, etaMs: true } });
  if (job?.status === 'running') return { position: null, etaMs: job.etaMs };
  const order = await queueOrder(prisma);
  const index = order.findIndex((q) => q.id === jobId);
  if (index < 0) return { position: null, etaMs: null };
  return { position: index + 1, etaMs: await estimateMs(prisma, order.slice(0, index + 1), opts) };
}
