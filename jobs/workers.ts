import { z } from 'zod';
import { LAYER_SETS, type LayerSetName } from '../lib/engine.ts';
import type { LayersChoice } from '../lib/request-rules.ts';
import type { Database } from './db.ts';

/**
 * The live worker processes, as they report themselves with every heartbeat: their slots and speed are the
 * queue's capacity (queue.ts), and what they can paint bounds what the bot accepts (paintingCapacity) and what
 * each of them claims (scheduler.ts). A worker that stops is forgotten by retention.ts.
 */
export interface WorkerInfo {
  id: string;
  host: string;
  concurrency: number;
  /** Megapixel-iterations per second of one slot, measured on the worker's latest job; null until then. */
  speed: number | null;
  /** What it can paint; absent for a worker of a version that does not say (it then claims anything). */
  capability?: Capability | undefined;
}

/** The layer sets a worker's weights may hold: the engine's named sets. */
const LAYER_SET_NAMES = Object.keys(LAYER_SETS) as [LayerSetName, ...LayerSetName[]];

export type { LayerSetName };

/** What a worker can paint, decided at its start from its weights, backend and memory. */
export const capabilitySchema = z.object({
  /**
   * For each layer set its weights hold, the largest result (longer side, px) a slot paints: what its memory
   * fits for a square (the most pixels a size can have), at most the largest size there is. A set it lacks is absent.
   */
  sizes: z.object({
    paper: z.number().int().nonnegative().optional(),
    shallow: z.number().int().nonnegative().optional(),
  }),
  /** The set an `auto` job gets on this worker (the paper's where its weights hold them); null: none. */
  auto: z.enum(LAYER_SET_NAMES).nullable(),
  backend: z.string(),
  device: z.string(),
  /** For the operator, one line: why it cannot paint what STYLIZE_LAYERS asks for; null when it can. */
  problem: z.string().nullable(),
});
export type Capability = z.infer<typeof capabilitySchema>;

/** The largest size a worker with `capability` paints for each value a job's `layers` may take; absent: none. */
export function claimableSizes(capability: Capability): Partial<Record<LayersChoice, number>> {
  const sizes: Partial<Record<LayersChoice, number>> = { ...capability.sizes };
  if (capability.auto) sizes.auto = capability.sizes[capability.auto];
  return sizes;
}

export async function workerAlive(db: Database, worker: WorkerInfo, now: Date): Promise<void> {
  const { capability, ...info } = worker;
  const declared = capability
    ? {
        backend: capability.backend,
        device: capability.device,
        capability: JSON.stringify({ sizes: capability.sizes, auto: capability.auto }),
        problem: capability.problem,
      }
    : {};
  await db.prisma.worker.upsert({
    where: { id: worker.id },
    create: { ...info, ...declared, lastSeenAt: now },
    update: { lastSeenAt: now, speed: worker.speed, ...declared },
  });
}

/** What the live workers can paint for one value of a job's `layers`. */
export type PaintingCapacity =
  /** No worker is alive (starting, or all elsewhere and down): the job waits in the queue for one. */
  | { kind: 'unknown' }
  /**
   * `maxSize`: the largest result a live worker paints; `layers`: the deepest set such a job may be painted with
   * (an `auto` job: the paper's if any of them would choose it), which decides the shapes it can paint.
   */
  | { kind: 'available'; maxSize: number; layers: LayerSetName }
  /** Workers are alive, but none can paint such a job; `reason` is for the operator. */
  | { kind: 'unavailable'; reason: string };

/** What the workers that heartbeated within `staleAfterMs` can paint for jobs with `layers`. */
export async function paintingCapacity(
  db: Database,
  layers: LayersChoice,
  opts: { staleAfterMs: number; now: Date },
): Promise<PaintingCapacity> {
  const rows = await db.prisma.worker.findMany({
    where: { lastSeenAt: { gte: new Date(opts.now.getTime() - opts.staleAfterMs) } },
    select: { capability: true, backend: true, device: true, problem: true },
  });
  if (rows.length === 0) return { kind: 'unknown' };
  const workers = rows.flatMap((row) => {
    if (row.capability === null) return [];
    const parsed = capabilitySchema.safeParse({ ...JSON.parse(row.capability), ...row });
    return parsed.success ? [parsed.data] : [];
  });
  // Workers of a version that does not declare what it paints: nothing to go by.
  if (workers.length < rows.length) return { kind: 'unknown' };
  const able = workers.filter((w) => (claimableSizes(w)[layers] ?? 0) > 0);
  if (able.length === 0) {
    const problems = [...new Set(workers.flatMap((w) => (w.problem ? [w.problem] : [])))];
    return {
      kind: 'unavailable',
      reason:
        problems.length > 0
          ? problems.join('; ')
          : `no live worker can paint with ${layers === 'auto' ? 'any' : `the ${layers}`} layers`,
    };
  }
  const paper = able.some((w) => (layers === 'auto' ? w.auto : layers) === 'paper');
  return {
    kind: 'available',
    maxSize: Math.max(...able.map((w) => claimableSizes(w)[layers]!)),
    layers: paper ? 'paper' : 'shallow',
  };
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
