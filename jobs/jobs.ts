import type { Core } from './core.ts';
import type { Database, JobRow, ServerRow } from './db.ts';
import { UserError } from './errors.ts';
import type { ImageStore, StoredImage } from './image-store.ts';
import { decodeOptions, decodeStyleRefs } from './job-row.ts';
import { type JobOptions, VARIATIONS, type VariationKind } from './options.ts';
import { plural } from './plural.ts';
import { type Platform, placeName, type ServerRef } from './servers.ts';
import { refundIfEnded } from './usage.ts';

/**
 * A job's life: queued → running → succeeded | failed | cancelled (running → queued again when its worker
 * stopped heartbeating). Every write that ends or advances a job is a compare-and-set on the state the writer
 * holds, so of two racing writers (a stale worker and the one that took the job over) exactly one wins.
 */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job as the chat adapters see it: where it came from, what was asked, where it stands. */
export interface JobView {
  id: number;
  platform: Platform;
  /** The guild or workspace id. */
  server: string;
  channelId: string;
  threadId: string | null;
  /** The adapter's own references (JSON: e.g. the reply and progress message ids), set with setChatRefs. */
  chatRefs: string | null;
  requesterId: string;
  status: JobStatus;
  options: JobOptions;
  styles: { name: string; weight: number }[];
  iteration: number;
  /** The optimisation stopped before its ceiling: the picture had stopped changing. */
  converged: boolean;
  loss: number | null;
  etaMs: number | null;
  attempts: number;
  /** For the member, in plain words, when the job failed. */
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** When its requester or an admin deleted the painting (deletePainting); null while it is kept. */
  deletedAt: Date | null;
  /** A variation's: the job it varies and what it changed; null for a painting asked for with /stylize. */
  variationOf: { jobId: number; kind: VariationKind } | null;
}

export function toJobView(row: JobRow & { server: ServerRow }): JobView {
  return {
    id: row.id,
    platform: row.server.platform as Platform,
    server: row.server.externalId,
    channelId: row.channelId,
    threadId: row.threadId,
    chatRefs: row.chatRefs,
    requesterId: row.requesterId,
    status: row.status as JobStatus,
    options: decodeOptions(row),
    styles: decodeStyleRefs(row).map(({ name, weight }) => ({ name, weight })),
    iteration: row.iteration,
    converged: row.converged,
    loss: row.loss,
    etaMs: row.etaMs,
    attempts: row.attempts,
    error: row.error,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    deletedAt: row.deletedAt,
    variationOf:
      row.parentJobId !== null && VARIATIONS.includes(row.variation as VariationKind)
        ? { jobId: row.parentJobId, kind: row.variation as VariationKind }
        : null,
  };
}

/** The largest job id: ids are 32-bit integers on PostgreSQL, which refuses a larger one in a query. */
const MAX_JOB_ID = 2_147_483_647;

/** The job and its server; null for an id no job can have (a member may type any number). */
export async function loadJob(db: Database, id: number): Promise<(JobRow & { server: ServerRow }) | null> {
  if (!Number.isSafeInteger(id) || id < 1 || id > MAX_JOB_ID) return null;
  return db.prisma.job.findUnique({ where: { id }, include: { server: true } });
}

/** A job asked about from a server: one of another server is as unknown there as one that does not exist. */
export async function loadServerJob(db: Database, server: ServerRef, id: number) {
  const row = await loadJob(db, id);
  if (!row || row.server.platform !== server.platform || row.server.externalId !== server.id) {
    throw new UserError('not-found', `There is no job ${id} on this ${placeName(server.platform)}.`);
  }
  return row;
}

/**
 * Records where a chat adapter shows a job (the thread, and its own message references), so a restarted bot
 * goes on editing the same messages. Not an event: the adapter wrote it and knows.
 */
export async function setChatRefs(
  core: Pick<Core, 'db'>,
  server: ServerRef,
  jobId: number,
  refs: { threadId?: string | null; chatRefs: string },
): Promise<void> {
  await loadServerJob(core.db, server, jobId);
  await core.db.prisma.job.update({
    where: { id: jobId },
    data: { chatRefs: refs.chatRefs, ...(refs.threadId !== undefined ? { threadId: refs.threadId } : {}) },
  });
}

/** Set by every write the chat adapters should hear about; the bot's notifier clears eventPending. */
export const CHANGED = { revision: { increment: 1 }, eventPending: true } as const;

/** A worker's hold on a job: valid while the job is running, by this worker, in this attempt. */
export interface Lease {
  jobId: number;
  workerId: string;
  attempt: number;
}

const held = (lease: Lease) => ({
  id: lease.jobId,
  status: 'running',
  workerId: lease.workerId,
  attempts: lease.attempt,
});

/** What the worker should do after a heartbeat or a progress write. */
export type LeaseState = 'ok' | 'cancel' | 'lost';

export async function heartbeat(db: Database, lease: Lease, now: Date): Promise<LeaseState> {
  const rows = await db.prisma.job.updateManyAndReturn({
    where: held(lease),
    data: { heartbeatAt: now },
    select: { cancelRequested: true },
  });
  return leaseState(rows);
}

export interface ProgressUpdate {
  iteration: number;
  converged: boolean;
  loss: number;
  etaMs: number;
  preview: StoredImage;
}

/**
 * Writes progress with a new preview image, replacing the job's previous preview (whichever attempt stored it,
 * so none is left behind when a job changes workers).
 */
export async function writeProgress(
  db: Database,
  images: ImageStore,
  lease: Lease,
  progress: ProgressUpdate,
  now: Date,
): Promise<LeaseState> {
  const before = await db.prisma.job.findUnique({ where: { id: lease.jobId }, select: { previewRef: true } });
  const previewRef = await images.put(progress.preview);
  const rows = await db.prisma.job
    .updateManyAndReturn({
      where: held(lease),
      data: {
        iteration: progress.iteration,
        converged: progress.converged,
        // The optimiser can report NaN or an infinite ETA when it diverges; the columns hold numbers or nothing.
        loss: Number.isFinite(progress.loss) ? progress.loss : null,
        etaMs: Number.isFinite(progress.etaMs) ? Math.round(progress.etaMs) : null,
        previewRef,
        heartbeatAt: now,
        ...CHANGED,
      },
      select: { cancelRequested: true },
    })
    .catch(async (error: unknown) => {
      // Not recorded: the new preview is nobody's (retention would find it after a grace period anyway).
      await images.delete([previewRef]).catch(() => {});
      throw error;
    });
  const state = leaseState(rows);
  const stale = state === 'lost' ? previewRef : before?.previewRef;
  if (stale) await images.delete([stale]);
  if (state !== 'lost') await db.notify(lease.jobId);
  return state;
}

function leaseState(rows: { cancelRequested: boolean }[]): LeaseState {
  if (rows.length === 0) return 'lost';
  return rows[0]!.cancelRequested ? 'cancel' : 'ok';
}

/**
 * Records the result; false when the lease was lost (the job was taken over), so the caller discards it.
 * `refs.timelapseRef`: the painting's timelapse, where one was made. `final`: the iterations the painting took and
 * whether it stopped early because it had converged.
 */
export async function completeJob(
  db: Database,
  images: ImageStore,
  lease: Lease,
  refs: { resultRef: string; comparisonRef: string; timelapseRef?: string | undefined },
  now: Date,
  final?: { iteration: number; converged: boolean },
): Promise<boolean> {
  const before = await db.prisma.job.findUnique({ where: { id: lease.jobId }, select: { previewRef: true } });
  const { count } = await db.prisma.job.updateMany({
    where: held(lease),
    data: {
      ...refs,
      ...final,
      status: 'succeeded',
      previewRef: null,
      etaMs: 0,
      finishedAt: now,
      ...CHANGED,
    },
  });
  if (count === 0) return false;
  // The preview has served its purpose; the other images stay until the retention ends.
  if (before?.previewRef) await images.delete([before.previewRef]);
  await db.notify(lease.jobId);
  return true;
}

/** Ends a running job as failed or cancelled (the worker saw the cancel flag), refunding its usage. */
export async function endJob(
  db: Database,
  lease: Lease,
  end: { status: 'failed'; error: string } | { status: 'cancelled' },
  now: Date,
): Promise<boolean> {
  const [{ count }] = await db.prisma.$transaction([
    db.prisma.job.updateMany({ where: held(lease), data: { ...end, finishedAt: now, ...CHANGED } }),
    refundIfEnded(db.prisma, lease.jobId, now),
  ]);
  if (count > 0) await db.notify(lease.jobId);
  return count > 0;
}

/** Puts a job back in the queue when its worker stops on purpose; the attempt does not count. */
export async function releaseJob(db: Database, lease: Lease): Promise<void> {
  await db.prisma.job.updateMany({
    where: held(lease),
    data: { status: 'queued', workerId: null, heartbeatAt: null, attempts: { decrement: 1 } },
  });
}

/**
 * Takes back running jobs whose worker stopped heartbeating (killed, machine gone): queued again while they
 * have attempts left, otherwise failed with a message for the member and refunded. Heartbeats are written with
 * each worker's clock, so the machines' clocks must agree to well within `staleAfterMs` (NTP does).
 */
export async function requeueStale(
  db: Database,
  policy: { staleAfterMs: number; maxAttempts: number },
  now: Date,
): Promise<{ requeued: number[]; failed: number[] }> {
  const stale = await db.prisma.job.findMany({
    where: { status: 'running', heartbeatAt: { lt: new Date(now.getTime() - policy.staleAfterMs) } },
    select: { id: true, workerId: true, attempts: true, cancelRequested: true },
  });
  const result = { requeued: [] as number[], failed: [] as number[] };
  for (const job of stale) {
    const lease = { jobId: job.id, workerId: job.workerId ?? '', attempt: job.attempts };
    if (job.cancelRequested) {
      await endJob(db, lease, { status: 'cancelled' }, now);
    } else if (job.attempts < policy.maxAttempts) {
      const { count } = await db.prisma.job.updateMany({
        where: held(lease),
        data: { status: 'queued', workerId: null, heartbeatAt: null, iteration: 0, etaMs: null },
      });
      if (count > 0) result.requeued.push(job.id);
    } else {
      const error =
        `The painting stopped ${plural(job.attempts, 'time')} because the machine working on it went away; ` +
        'please try again later.';
      if (await endJob(db, lease, { status: 'failed', error }, now)) result.failed.push(job.id);
    }
  }
  return result;
}

/**
 * Cancels a job for its requester or an admin: a queued job ends at once (and is refunded); a running one gets
 * the cancel flag, which its worker sees at its next heartbeat or progress write and stops within an iteration.
 */
export async function requestCancel(
  db: Database,
  jobId: number,
  by: string,
  now: Date,
): Promise<'cancelled' | 'stopping' | 'already-ended'> {
  // Two rounds: a job claimed between reading it as queued and cancelling it is then seen as running.
  for (let round = 0; round < 2; round++) {
    const [{ count }] = await db.prisma.$transaction([
      db.prisma.job.updateMany({
        where: { id: jobId, status: 'queued' },
        data: { status: 'cancelled', cancelledBy: by, finishedAt: now, ...CHANGED },
      }),
      refundIfEnded(db.prisma, jobId, now),
    ]);
    if (count > 0) {
      await db.notify(jobId);
      return 'cancelled';
    }
    const running = await db.prisma.job.updateMany({
      where: { id: jobId, status: 'running' },
      data: { cancelRequested: true, cancelledBy: by },
    });
    if (running.count > 0) return 'stopping';
    const job = await db.prisma.job.findUnique({ where: { id: jobId }, select: { status: true } });
    if (job?.status !== 'queued') return 'already-ended';
  }
  return 'already-ended';
}

/** Why a job's timelapse cannot be shown; each with a sentence for the member. */
export type NoTimelapse = 'not-finished' | 'none' | 'purged';

/**
 * A finished job's timelapse (an animated WebP or GIF) and the job, for anyone on its server: the adapters post it
 * in the job's thread. UserError `not-found` for a job of another server or none; `no-timelapse` when the job did
 * not succeed, never had one, or its images were deleted by the retention (each said in plain words).
 */
export async function jobTimelapse(
  core: Pick<Core, 'db' | 'images'>,
  server: ServerRef,
  jobId: number,
): Promise<{ image: StoredImage; job: JobView }> {
  const row = await loadServerJob(core.db, server, jobId);
  const missing = (reason: NoTimelapse) => new UserError('no-timelapse', NO_TIMELAPSE[reason](jobId));
  if (row.status !== 'succeeded') throw missing('not-finished');
  if (row.imagesPurgedAt) throw missing('purged');
  if (!row.timelapseRef) throw missing('none');
  const image = await core.images.get(row.timelapseRef);
  if (!image) throw missing('purged');
  return { image, job: toJobView(row) };
}

const NO_TIMELAPSE: Record<NoTimelapse, (jobId: number) => string> = {
  'not-finished': (id) => `Painting #${id} has no timelapse: it did not finish.`,
  none: (id) => `Painting #${id} has no timelapse: it was painted without one.`,
  purged: (id) =>
    `The timelapse of painting #${id} is no longer kept: its images were deleted after the retention period.`,
};
