import { DEFAULT_TIMELAPSE } from '../engine/index.ts';
import {
  type Core,
  decodeOptions,
  decodeStyleRefs,
  type Lease,
  loadJob,
  measuredSpeed,
  UserError,
} from '../jobs/worker-api.ts';
import { decodeImage } from '../lib/images/index.ts';
import type { Logger } from '../lib/log.ts';
import { iterationsPerSecond, jobDuration } from '../lib/metrics.ts';
import { type ActiveJob, stopJob, type WorkerContext } from './context.ts';
import { finishStopped } from './job-end.ts';
import type { Painter } from './paint.ts';
import { type ProgressWriter, progressWriter } from './progress.ts';
import { encodeResults, type StoreOutcome, storeResults } from './results.ts';

type JobRow = NonNullable<Awaited<ReturnType<typeof loadJob>>>;
type PaintInput = Parameters<Painter['paint']>[0];

/** One job's run, as its units see it: the job, its row, its log, where its progress goes, when it started. */
interface JobRun {
  job: ActiveJob;
  row: JobRow;
  log: Logger;
  progress: ProgressWriter;
  /** performance.now() when the run began. */
  started: number;
}

/**
 * Runs one claimed job to its end: reads it, paints it (progress written as it goes), stores the results; or,
 * where it threw or was stopped (cancelled, taken over, shutdown), ends it accordingly (job-end.ts). The job is
 * in `ctx.active`, where the heartbeat holds its lease, for as long as this runs. Never throws but for a
 * database that refuses the job's end, which the claim loop logs.
 */
export async function runJob(ctx: WorkerContext, lease: Lease): Promise<void> {
  const job: ActiveJob = { lease, controller: new AbortController() };
  ctx.active.set(lease.jobId, job);
  // A read error is treated like a vanished row: the job fails (or, with the database down, goes stale).
  const row = await loadJob(ctx.core.db, lease.jobId).catch(() => null);
  const log = ctx.log.child({
    jobId: lease.jobId,
    server: row?.server.externalId,
    platform: row?.server.platform,
    attempt: lease.attempt,
  });
  const started = performance.now();
  const observe = (outcome: string) => jobDuration.observe({ outcome }, (performance.now() - started) / 1000);
  const progress = progressWriter(ctx.core, job, log);
  try {
    if (!row) throw new Error('the job row vanished');
    if (row.cancelRequested) stopJob(job, 'cancel');
    log.info('job started');
    const outcome = await paintAndStore(ctx, { job, row, log, progress, started });
    observe(outcome === 'stored' ? 'succeeded' : outcome);
  } catch (error) {
    await progress.close();
    observe(await finishStopped(ctx.core.db, job, error, log));
  } finally {
    ctx.active.delete(lease.jobId);
  }
}

/** Paints the job, records this worker's speed, and stores the painting; returns where storing it ended. */
async function paintAndStore(ctx: WorkerContext, run: JobRun): Promise<StoreOutcome> {
  const { job, log, progress, started } = run;
  const input = await readInputs(ctx.core, run.row);
  job.controller.signal.throwIfAborted();
  /** Where the painting ended: the engine always reports a scale's last iteration. */
  let final = { iteration: 0, converged: false };
  const painted = await ctx.painter.paint(input, {
    signal: job.controller.signal,
    log,
    progressEveryMs: ctx.core.config.jobs.progressEveryMs,
    timelapse: DEFAULT_TIMELAPSE,
    onProgress: (p) => {
      const seconds = (performance.now() - started) / 1000;
      if (seconds > 0 && p.iteration > 0) iterationsPerSecond.set(p.iteration / seconds);
      final = { iteration: p.iteration, converged: p.converged };
      progress.report(p);
    },
  });
  await progress.close();
  const { width, height } = painted.image;
  const seconds = (performance.now() - started) / 1000;
  ctx.speed = measuredSpeed(width * height, input.options.iterations, seconds);
  const images = await encodeResults(ctx.core.config.jobs.maxImageBytes, input, painted, log);
  const outcome = await storeResults(ctx.core, job, log, images, final);
  if (outcome === 'stored') {
    log.info({ ms: Math.round(performance.now() - started) }, 'job succeeded');
  } else if (outcome === 'lost') {
    log.warn('job was taken over by another worker meanwhile; result discarded');
  }
  return outcome;
}

/** What the painter needs of a job: its options and its images (photo, styles, a variation's start), decoded. */
async function readInputs(core: Pick<Core, 'images'>, row: JobRow): Promise<PaintInput> {
  const options = decodeOptions(row);
  const content = await readImage(core, row.contentRef);
  const styles = await Promise.all(
    decodeStyleRefs(row).map(async (s) => ({
      image: await readImage(core, s.ref),
      name: s.name,
      weight: s.weight,
      preset: s.preset,
    })),
  );
  const start = row.startRef === null ? undefined : await readImage(core, row.startRef);
  return { content, styles, options, start };
}

/** An image of the job, decoded; a member's error where it is no longer stored. */
async function readImage(core: Pick<Core, 'images'>, ref: string) {
  const image = await core.images.get(ref);
  if (!image) {
    throw new UserError(
      'not-found',
      'The images for this painting are no longer stored; please send them again.',
    );
  }
  return decodeImage(image.bytes);
}
