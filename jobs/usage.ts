import type { Client, Tx } from './db.ts';

/**
 * The usage ledger: one row per accepted job, counted against its UTC day and given back when the job fails or
 * is cancelled. The quotas (rules/quotas.ts) read it; the job's end (jobs.ts) refunds it.
 */

/** The UTC day a job counts against, YYYY-MM-DD. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Counts a job as accepted: one usage row, refunded if the job fails or is cancelled. */
export function recordUsage(tx: Tx, job: { id: number; serverId: number; requesterId: string }, now: Date) {
  return tx.usage.create({
    data: { jobId: job.id, serverId: job.serverId, requesterId: job.requesterId, day: utcDay(now) },
  });
}

/**
 * Gives a job's usage back once the job has failed or been cancelled. Conditional on that end state and on
 * not having been refunded, so it is safe to run after any attempt to end a job, whoever won the race.
 */
export function refundIfEnded(prisma: Client | Tx, jobId: number, now: Date) {
  return prisma.usage.updateMany({
    where: { jobId, refundedAt: null, job: { status: { in: ['failed', 'cancelled'] } } },
    data: { refundedAt: now },
  });
}

export async function usageToday(
  prisma: Client | Tx,
  serverId: number,
  now: Date,
): Promise<{ server: number; byMember: Map<string, number> }> {
  const rows = await prisma.usage.groupBy({
    by: ['requesterId'],
    where: { serverId, day: utcDay(now), refundedAt: null },
    _count: { _all: true },
  });
  const byMember = new Map(rows.map((r) => [r.requesterId, r._count._all]));
  return { server: [...byMember.values()].reduce((a, b) => a + b, 0), byMember };
}
