import type { Database } from './db.ts';

/**
 * The live worker processes, as they report themselves with every heartbeat. Only the queue's ETA reads them
 * (their slots and speed are the capacity); a worker that stops is forgotten by retention.ts.
 */
export interface WorkerInfo {
  id: string;
  host: string;
  concurrency: number;
  /** Megapixel-iterations per second of one slot, measured on the worker's latest job; null until then. */
  speed: number | null;
}

export async function workerAlive(db: Database, worker: WorkerInfo, now: Date): Promise<void> {
  await db.prisma.worker.upsert({
    where: { id: worker.id },
    create: { ...worker, lastSeenAt: now },
    update: { lastSeenAt: now, speed: worker.speed },
  });
}

/**
 * A slot's painting speed from one finished job: its result's pixels times the iterations asked for, per
 * second from start to result (setup and every coarse-to-fine scale included), in megapixel-iterations per
 * second; the queue's ETA divides jobs' work, counted the same way, by it.
 */
export function measuredSpeed(pixels: number, iterations: number, seconds: number): number | null {
  return seconds > 0 ? (pixels * iterations) / 1e6 / seconds : null;
}

export async function workerGone(db: Database, id: string): Promise<void> {
  await db.prisma.worker.deleteMany({ where: { id } });
}
