import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Core } from '../src/core/core.ts';
import { UserError } from '../src/core/errors.ts';
import { ImageTooLargeError } from '../src/core/image-store.ts';
import {
  completeJob,
  endJob,
  heartbeat,
  type Lease,
  loadJob,
  releaseJob,
  requeueStale,
  writeProgress,
} from '../src/core/jobs.ts';
import { jobOptionsSchema, styleRefsSchema } from '../src/core/options.ts';
import { claimJob } from '../src/core/scheduler.ts';
import { workerAlive, workerGone } from '../src/core/workers.ts';
import { comparison, decodeImage, encodeImage, ImageError } from '../src/images/index.ts';
import type { Logger } from '../src/log.ts';
import { iterationsPerSecond, jobDuration, jobFailures } from '../src/metrics.ts';
import { encodeToFit, type Painter } from './paint.ts';

/**
 * A worker process's main loop: `concurrency` slots, each claiming a job (the fair, atomic claim in
 * src/core/scheduler.ts), painting it and storing the results, then claiming the next. One timer heartbeats
 * every running job and the worker itself; the heartbeat's answer carries the cancel flag. Stale jobs of
 * workers that died are taken back here too, by whichever worker is alive. No failure of a job or of the
 * database stops the loop.
 */
export interface RunningWorker {
  readonly id: string;
  /** True once stop() was called: the worker takes no more jobs. */
  readonly stopping: boolean;
  /** Stops claiming; running jobs are put back in the queue for another worker. */
  stop(): Promise<void>;
}

type StopReason = 'cancel' | 'lost' | 'shutdown';

interface Active {
  lease: Lease;
  controller: AbortController;
  reason?: StopReason;
}

const GENERIC_FAILURE = 'Something went wrong while painting this; please try again.';

export function startWorker(core: Core, painter: Painter): RunningWorker {
  const { db, images, config } = core;
  const { heartbeatMs, pollMinMs, pollMaxMs } = config.jobs;
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = core.log.child({ worker: id });
  const active = new Map<number, Active>();
  const sleepers = new Set<() => void>();
  let stopping = false;
  let lastSweep = 0;

  const stop = (job: Active, reason: StopReason) => {
    job.reason ??= reason;
    job.controller.abort();
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function beat(): Promise<void> {
    const now = new Date();
    await workerAlive(db, { id, host: hostname(), concurrency: config.worker.concurrency }, now);
    for (const job of active.values()) {
      const state = await heartbeat(db, job.lease, now);
      if (state !== 'ok') stop(job, state);
    }
  }

  async function sweep(): Promise<void> {
    if (Date.now() - lastSweep < heartbeatMs) return;
    lastSweep = Date.now();
    const { requeued, failed } = await requeueStale(db, config.jobs, new Date());
    if (requeued.length > 0) log.warn({ jobs: requeued }, 'took back jobs whose worker stopped heartbeating');
    if (failed.length > 0) log.warn({ jobs: failed }, 'failed jobs whose workers stopped too many times');
  }

  async function slot(): Promise<void> {
    let delay = pollMinMs;
    while (!stopping) {
      try {
        await sweep();
        const lease = await claimJob(db, id, config.limits);
        if (lease) {
          delay = pollMinMs;
          await run(lease);
          continue;
        }
      } catch (error) {
        log.error({ err: error }, 'could not claim a job; retrying');
      }
      await sleep(delay);
      delay = Math.min(delay * 2, pollMaxMs);
    }
  }

  async function run(lease: Lease): Promise<void> {
    const job: Active = { lease, controller: new AbortController() };
    active.set(lease.jobId, job);
    // A read error is treated like a vanished row: the job fails (or, with the database down, goes stale).
    const row = await loadJob(db, lease.jobId).catch(() => null);
    const jobLog = log.child({
      jobId: lease.jobId,
      server: row?.server.externalId,
      platform: row?.server.platform,
      attempt: lease.attempt,
    });
    let writing: Promise<void> | undefined;
    /** Where the painting ended: the engine always reports a scale's last iteration. */
    let final = { iteration: 0, converged: false };
    const started = performance.now();
    const observe = (outcome: string) =>
      jobDuration.observe({ outcome }, (performance.now() - started) / 1000);
    try {
      if (!row) throw new Error('the job row vanished');
      if (row.cancelRequested) stop(job, 'cancel');
      jobLog.info('job started');
      const options = jobOptionsSchema.parse(JSON.parse(row.options));
      const content = await readImage(row.contentRef);
      const styles = await Promise.all(
        styleRefsSchema.parse(JSON.parse(row.styleRefs)).map(async (s) => ({
          image: await readImage(s.ref),
          name: s.name,
          weight: s.weight,
          preset: s.preset,
        })),
      );
      job.controller.signal.throwIfAborted();
      const result = await painter.paint(
        { content, styles, options },
        {
          signal: job.controller.signal,
          log: jobLog,
          progressEveryMs: config.jobs.progressEveryMs,
          // The engine reports synchronously; the write runs beside it, and a report that arrives while the
          // previous write is still going is skipped (the next one carries newer numbers anyway).
          onProgress: (p) => {
            const seconds = (performance.now() - started) / 1000;
            if (seconds > 0 && p.iteration > 0) iterationsPerSecond.set(p.iteration / seconds);
            final = { iteration: p.iteration, converged: p.converged };
            if (writing) return;
            writing = (async () => {
              const preview = {
                mime: 'image/jpeg' as const,
                bytes: await encodeImage(p.preview, 'jpeg', { quality: 80 }),
              };
              const update = {
                iteration: p.iteration,
                converged: p.converged,
                loss: p.loss,
                etaMs: p.etaMs,
                preview,
              };
              const state = await writeProgress(db, images, lease, update, new Date());
              if (state !== 'ok') stop(job, state);
            })()
              .catch((error) => jobLog.warn({ err: error }, 'could not write progress'))
              .finally(() => {
                writing = undefined;
              });
          },
        },
      );
      await writing;
      const { maxImageBytes } = config.jobs;
      const resultImage = await encodeToFit((format) => encodeImage(result, format), maxImageBytes);
      const comparisonImage = await encodeToFit(
        (format) => comparison(content, styles, result, format),
        maxImageBytes,
      );
      const refs = {
        resultRef: await images.put({ mime: `image/${resultImage.format}`, bytes: resultImage.bytes }),
        comparisonRef: await images.put({
          mime: `image/${comparisonImage.format}`,
          bytes: comparisonImage.bytes,
        }),
      };
      if (await completeJob(db, images, lease, refs, new Date(), final)) {
        jobLog.info({ ms: Math.round(performance.now() - started) }, 'job succeeded');
        observe('succeeded');
      } else {
        observe('lost');
        await images.delete([refs.resultRef, refs.comparisonRef]);
        jobLog.warn('job was taken over by another worker meanwhile; result discarded');
      }
    } catch (error) {
      await writing;
      observe(await finishStopped(job, error, jobLog));
    } finally {
      active.delete(lease.jobId);
    }
  }

  /** Ends a job that threw or was stopped; returns the outcome, for the duration histogram. */
  async function finishStopped(job: Active, error: unknown, jobLog: Logger): Promise<string> {
    const now = new Date();
    switch (job.controller.signal.aborted ? job.reason : undefined) {
      case 'cancel':
        await endJob(db, job.lease, { status: 'cancelled' }, now);
        jobLog.info('job cancelled');
        return 'cancelled';
      case 'lost':
        jobLog.warn('job was taken over by another worker; stopped');
        return 'lost';
      case 'shutdown':
        await releaseJob(db, job.lease);
        jobLog.info('worker stopping; job put back in the queue');
        return 'released';
      default: {
        const message = userMessage(error);
        jobLog.error({ err: error }, 'job failed');
        jobFailures.inc({ reason: failureClass(error) });
        await endJob(db, job.lease, { status: 'failed', error: message }, now);
        return 'failed';
      }
    }
  }

  async function readImage(ref: string) {
    const image = await images.get(ref);
    if (!image)
      throw new UserError(
        'not-found',
        'The images for this painting are no longer stored; please send them again.',
      );
    return decodeImage(image.bytes);
  }

  const timer = setInterval(() => {
    beat().catch((error) => log.error({ err: error }, 'heartbeat failed'));
  }, heartbeatMs);
  const slots = beat()
    .catch((error) => log.error({ err: error }, 'heartbeat failed'))
    .then(() => Promise.all(Array.from({ length: config.worker.concurrency }, slot)));
  log.info({ concurrency: config.worker.concurrency, database: db.provider }, 'worker started');

  return {
    id,
    get stopping() {
      return stopping;
    },
    async stop() {
      stopping = true;
      for (const job of active.values()) stop(job, 'shutdown');
      for (const wake of sleepers) wake();
      await slots;
      clearInterval(timer);
      await workerGone(db, id).catch((error) => log.warn({ err: error }, 'could not sign off'));
      log.info('worker stopped');
    },
  };
}

/** The reason class of a failure, for the failures counter: the member's input, a too-large result, or ours. */
function failureClass(error: unknown): 'user' | 'too-large' | 'internal' {
  if (error instanceof ImageTooLargeError) return 'too-large';
  if (error instanceof UserError || error instanceof ImageError) return 'user';
  return 'internal';
}

/** What the member reads when their job fails: our own messages as they are, anything else in general words. */
function userMessage(error: unknown): string {
  if (error instanceof UserError || error instanceof ImageError) return error.message;
  if (error instanceof ImageTooLargeError) {
    return 'The painting came out larger than this bot can store; please ask for a smaller size.';
  }
  return GENERIC_FAILURE;
}
