import type { Client } from './db.ts';

/**
 * Queue positions and waiting-time estimates, for members ("queued, position N, about M minutes") and admins
 * (the queue listing). The order mirrors the claim (scheduler.ts): servers round-robin by when one of their
 * jobs last started, each server's jobs oldest first. Running limits can reorder it a little; it is an estimate.
 */
export interface QueuedJob {
  id: number;
  serverId: number;
  requesterId: string;
  /** 1 for the job that starts next. */
  position: number;
}

/** Until jobs have finished to learn from: a few hundred iterations at a few hundred pixels on a CPU. */
const DEFAULT_JOB_MS = 60_000;
/** How many recent jobs the average duration is taken over. */
const RECENT_JOBS = 20;

export async function queueOrder(prisma: Client): Promise<QueuedJob[]> {
  const jobs = await prisma.job.findMany({
    where: { status: 'queued', cancelRequested: false },
    select: { id: true, serverId: true, requesterId: true, createdAt: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
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
    ([a, aJobs], [b, bJobs]) =>
      lastClaimed.get(a)! - lastClaimed.get(b)! ||
      aJobs[0]!.createdAt.getTime() - bJobs[0]!.createdAt.getTime() ||
      aJobs[0]!.id - bJobs[0]!.id,
  );
  // Round r takes every server's r-th job, servers in the order above: a claim sends its server to the back.
  const result: QueuedJob[] = [];
  const rounds = Math.max(0, ...order.map(([, serverJobs]) => serverJobs.length));
  for (let round = 0; round < rounds; round++) {
    for (const [, serverJobs] of order) {
      const job = serverJobs[round];
      if (job) result.push({ id: job.id, serverId: job.serverId, requesterId: job.requesterId, position: 0 });
    }
  }
  return result.map((job, i) => ({ ...job, position: i + 1 }));
}

/**
 * Milliseconds until a job at `position` is done: the jobs ahead of it and those running share the live
 * workers' capacity, each taking as long as recent jobs took on average.
 */
export async function estimateMs(
  prisma: Client,
  position: number,
  opts: { staleAfterMs: number; now: Date },
): Promise<number> {
  const since = new Date(opts.now.getTime() - opts.staleAfterMs);
  const [workers, running, recent] = await Promise.all([
    prisma.worker.aggregate({ where: { lastSeenAt: { gte: since } }, _sum: { concurrency: true } }),
    prisma.job.count({ where: { status: 'running' } }),
    prisma.job.findMany({
      where: { status: 'succeeded', startedAt: { not: null }, finishedAt: { not: null } },
      select: { startedAt: true, finishedAt: true },
      orderBy: { finishedAt: 'desc' },
      take: RECENT_JOBS,
    }),
  ]);
  const capacity = Math.max(1, workers._sum.concurrency ?? 0);
  const averageMs =
    recent.length === 0
      ? DEFAULT_JOB_MS
      : recent.reduce((sum, j) => sum + (j.finishedAt!.getTime() - j.startedAt!.getTime()), 0) /
        recent.length;
  return Math.round(((position - 1 + running) / capacity + 1) * averageMs);
}

/** Where a job stands: its place and expected wait while queued, the worker's own estimate while running. */
export async function standing(
  prisma: Client,
  jobId: number,
  opts: { staleAfterMs: number; now: Date },
): Promise<{ position: number | null; etaMs: number | null }> {
  const job = await prisma.job.findUnique({ where: { id: jobId }, select: { status: true, etaMs: true } });
  if (job?.status === 'running') return { position: null, etaMs: job.etaMs };
  const position = (await queueOrder(prisma)).find((q) => q.id === jobId)?.position;
  if (position === undefined) return { position: null, etaMs: null };
  return { position, etaMs: await estimateMs(prisma, position, opts) };
}
