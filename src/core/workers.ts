import type { Database } from './db.ts';

/**
 * The live worker processes, as they report themselves with every heartbeat. Only the queue's ETA reads them
 * (their total concurrency is the capacity); a worker that stops is forgotten by retention.ts.
 */
export interface WorkerInfo {
  id: string;
  host: string;
  concurrency: number;
}

export async function workerAlive(db: Database, worker: WorkerInfo, now: Date): Promise<void> {
  await db.prisma.worker.upsert({
    where: { id: worker.id },
    create: { ...worker, lastSeenAt: now },
    update: { lastSeenAt: now },
  });
}

export async function workerGone(db: Database, id: string): Promise<void> {
  await db.prisma.worker.deleteMany({ where: { id } });
}
