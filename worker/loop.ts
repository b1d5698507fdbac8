import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_TIMELAPSE, type Progress, type TimelapseFrame } from '../engine/index.ts';
import {
  abortableSleep,
  type Core,
  claimableSizes,
  claimJob,
  completeJob,
  endJob,
  heartbeat,
  ImageTooLargeError,
  isTransient,
  jobOptionsSchema,
  type Lease,
  loadJob,
  measuredSpeed,
  releaseJob,
  requeueStale,
  retryTransient,
  type StoredImage,
  styleRefsSchema,
  UserError,
  workerAlive,
  workerGone,
  writeProgress,
} from '../jobs/worker-api.ts';
import { comparison, decodeImage, encodeAnimation, encodeImage } from '../lib/images/index.ts';
import type { Logger } from '../lib/log.ts';
import { memberReply } from '../lib/member-error.ts';
import { iterationsPerSecond, jobDuration, jobFailures } from '../lib/metrics.ts';
import { encodeToFit, type Painter } from './paint.ts';

/**
 * A worker process's main loop: `concurrency` slots, each claiming a job (the fair, atomic claim in
 * jobs/scheduler.ts), painting it and storing the results, then claiming the next. One timer heartbeats
 * every running job and the worker itself; the heartbeat's answer carries the cancel flag. A second timer, on
 * the same period, takes back the stale jobs of workers that died: every live worker sweeps, busy or not, so a
 * dead worker's job is back in the queue within STALE_AFTER_MS plus one heartbeat. No failure of a job or of
 * the database stops the loop; a database blip while a finished painting is stored is waited out (with
 * backoff) rather than spending an attempt on painting it again.
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
/** Backoff of retried writes: from the first wait, doubling up to the longest. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

export interface WorkerOptions {
  /** Jobs painted at once (WORKER_CONCURRENCY; default 1). */
  concurrency?: number | undefined;
}

export function startWorker(core: Core, painter: Painter, options: WorkerOptions = {}): RunningWorker {
  const { db, images, config } = core;
  const concurrency = options.concurrency ?? 1;
  const { heartbeatMs, pollMinMs, pollMaxMs } = config.jobs;
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = core.log.child({ worker: id });
  const active = new Map<number, Active>();
  const sleepers = new Set<() => void>();
  let stopping = false;
  /** Of one slot, measured on the latest job this worker finished (see measuredSpeed). */
  let speed: number | null = null;

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
    const { capability } = await painter.capability();
    const info = { id, host: hostname(), concurrency, speed, capability };
    await workerAlive(db, info, now);
    for (const job of active.values()) {
      const state = await heartbeat(db, job.lease, now);
      if (state !== 'ok') stop(job, state);
    }
  }

  async function sweep(): Promise<void> {
    const { requeued, failed } = await requeueStale(db, config.jobs, new Date());
    if (requeued.length > 0) log.warn({ jobs: requeued }, 'took back jobs whose worker stopped heartbeating');
    if (failed.length > 0) log.warn({ jobs: failed }, 'failed jobs whose workers stopped too many times');
  }

  /** Runs `task` every heartbeat, a run never overlapping the previous one (the database may be slow). */
  function every(what: string, task: () => Promise<void>): { ran: Promise<void>; stop(): void } {
    let running: Promise<void> | undefined;
    const run = () => {
      running ??= task()
        .catch((error) => log.error({ err: error }, `${what} failed`))
        .finally(() => {
          running = undefined;
        });
      return running;
    };
    const timer = setInterval(run, heartbeatMs);
    return { ran: run(), stop: () => clearInterval(timer) };
  }

  async function slot(): Promise<void> {
    let delay = pollMinMs;
    // Only jobs this worker can paint: layers its weights hold, sizes its memory fits.
    const paints = claimableSizes((await painter.capability()).capability);
    while (!stopping) {
      try {
        const lease = await claimJob(db, id, config.limits, paints);
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
    /** Where the painting ended: the engine always reports a scale's last iteration. */
    let final = { iteration: 0, converged: false };
    const started = performance.now();
    const observe = (outcome: string) =>
      jobDuration.observe({ outcome }, (performance.now() - started) / 1000);
    const progress = progressWriter(job, jobLog);
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
      const start = row.startRef === null ? undefined : await readImage(row.startRef);
      job.controller.signal.throwIfAborted();
      const painted = await painter.paint(
        { content, styles, options, start },
        {
          signal: job.controller.signal,
          log: jobLog,
          progressEveryMs: config.jobs.progressEveryMs,
          timelapse: DEFAULT_TIMELAPSE,
          onProgress: (p) => {
            const seconds = (performance.now() - started) / 1000;
            if (seconds > 0 && p.iteration > 0) iterationsPerSecond.set(p.iteration / seconds);
            final = { iteration: p.iteration, converged: p.converged };
            progress.report(p);
          },
        },
      );
      await progress.close();
      const result = painted.image;
      speed = measuredSpeed(
        result.width * result.height,
        options.iterations,
        (performance.now() - started) / 1000,
      );
      const { maxImageBytes } = config.jobs;
      const resultImage = await encodeToFit((format) => encodeImage(result, format), maxImageBytes);
      const comparisonImage = await encodeToFit(
        (format) => comparison(content, styles, result, format),
        maxImageBytes,
      );
      const timelapse = await timelapseImage(painted.timelapse, jobLog);
      const outcome = await store(
        job,
        jobLog,
        {
          result: { mime: `image/${resultImage.format}`, bytes: resultImage.bytes },
          comparison: { mime: `image/${comparisonImage.format}`, bytes: comparisonImage.bytes },
          timelapse,
        },
        final,
      );
      if (outcome === 'stored') {
        jobLog.info({ ms: Math.round(performance.now() - started) }, 'job succeeded');
      } else if (outcome === 'lost') {
        jobLog.warn('job was taken over by another worker meanwhile; result discarded');
      }
      observe(outcome === 'stored' ? 'succeeded' : outcome);
    } catch (error) {
      await progress.close();
      observe(await finishStopped(job, error, jobLog));
    } finally {
      active.delete(lease.jobId);
    }
  }

  /**
   * The timelapse as an animated WebP: full colour, and about a ninth of a GIF's encoding time at its lowest
   * effort (an adapter whose platform previews only GIF converts it when it is asked for). Undefined, logged,
   * where it cannot be made or is over the store's limit: the painting is delivered without it.
   */
  async function timelapseImage(
    frames: readonly TimelapseFrame[] | undefined,
    jobLog: Logger,
  ): Promise<StoredImage | undefined> {
    if (!frames || frames.length === 0) return undefined;
    try {
      const bytes = await encodeAnimation(frames, 'webp');
      if (bytes.length <= config.jobs.maxImageBytes) return { mime: 'image/webp', bytes };
      jobLog.warn({ bytes: bytes.length }, 'the timelapse is over the image store limit; left out');
    } catch (error) {
      jobLog.warn({ err: error }, 'could not make the timelapse; left out');
    }
    return undefined;
  }

  /**
   * Stores a finished painting: its images (the timelapse where there is one), then the job's completion, each
   * write retried through transient database errors for up to STALE_AFTER_MS (heartbeats go on meanwhile, so the
   * job stays this worker's). Returns `lost` when another worker took the job over, `abandoned` when the database
   * stayed unusable that long: the job is then left to the stale sweep, which gives it to another worker, rather
   * than failed. A cancel or shutdown meanwhile stops the retries (the error reaches finishStopped).
   */
  async function store(
    job: Active,
    jobLog: Logger,
    stored: { result: StoredImage; comparison: StoredImage; timelapse: StoredImage | undefined },
    final: { iteration: number; converged: boolean },
  ): Promise<'stored' | 'lost' | 'abandoned'> {
    const refs: { resultRef?: string; comparisonRef?: string; timelapseRef?: string } = {};
    const policy = {
      minMs: RETRY_MIN_MS,
      maxMs: RETRY_MAX_MS,
      deadline: Date.now() + config.jobs.staleAfterMs,
      signal: job.controller.signal,
      onRetry: (error: unknown, waitMs: number) =>
        jobLog.warn({ err: error, waitMs }, 'could not store the painting; retrying'),
    };
    const discard = () =>
      images
        .delete(
          [refs.resultRef, refs.comparisonRef, refs.timelapseRef].filter((r): r is string => r !== undefined),
        )
        .catch((error) => jobLog.warn({ err: error }, 'could not delete the unused images'));
    try {
      const completed = await retryTransient(async () => {
        refs.resultRef ??= await images.put(stored.result);
        refs.comparisonRef ??= await images.put(stored.comparison);
        if (stored.timelapse) refs.timelapseRef ??= await images.put(stored.timelapse);
        return completeJob(
          db,
          images,
          job.lease,
          { resultRef: refs.resultRef, comparisonRef: refs.comparisonRef, timelapseRef: refs.timelapseRef },
          new Date(),
          final,
        );
      }, policy);
      if (!completed) await discard();
      return completed ? 'stored' : 'lost';
    } catch (error) {
      await discard();
      if (job.controller.signal.aborted || !isTransient(error)) throw error;
      jobLog.error(
        { err: error },
        'could not store the painting for STALE_AFTER_MS; leaving the job to be taken back',
      );
      return 'abandoned';
    }
  }

  /**
   * Writes a job's progress beside the engine (which reports synchronously): one write at a time, always of
   * the latest report (reports arriving during a write replace each other), and after a failed write the next
   * waits with backoff, so a database blip costs neither the attempt nor a flood of writes.
   */
  function progressWriter(job: Active, jobLog: Logger) {
    let latest: Progress | undefined;
    let writing: Promise<void> | undefined;
    const closed = new AbortController();
    async function drain(): Promise<void> {
      let wait = RETRY_MIN_MS;
      while (latest && !closed.signal.aborted) {
        const p = latest;
        latest = undefined;
        try {
          const preview = {
            mime: 'image/jpeg' as const,
            bytes: await encodeImage(p.preview, 'jpeg', { quality: 80 }),
          };
          const { iteration, converged, loss, etaMs } = p;
          const update = { iteration, converged, loss, etaMs, preview };
          const state = await writeProgress(db, images, job.lease, update, new Date());
          if (state !== 'ok') stop(job, state);
          wait = RETRY_MIN_MS;
        } catch (error) {
          jobLog.warn({ err: error, waitMs: wait }, 'could not write progress; retrying');
          latest ??= p;
          await abortableSleep(wait, closed.signal);
          wait = Math.min(wait * 2, RETRY_MAX_MS);
        }
      }
    }
    return {
      report(p: Progress) {
        latest = p;
        writing ??= drain().finally(() => {
          writing = undefined;
        });
      },
      /** No more writes: pending reports are dropped, and the write under way is waited for. */
      async close() {
        closed.abort();
        latest = undefined;
        await writing;
      },
    };
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
        // The operator's problems and ours are errors to look at; a member's input is only worth a line.
        if (memberReply(error).log) jobLog.error({ err: error }, 'job failed');
        else jobLog.info({ err: error }, 'job failed');
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

  const heartbeats = every('heartbeat', beat);
  const sweeps = every('stale job sweep', sweep);
  const slots = heartbeats.ran.then(() => Promise.all(Array.from({ length: concurrency }, slot)));
  log.info({ concurrency, database: db.provider }, 'worker started');

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
      heartbeats.stop();
      sweeps.stop();
      await workerGone(db, id).catch((error) => log.warn({ err: error }, 'could not sign off'));
      log.info('worker stopped');
    },
  };
}

/**
 * The reason class of a failure, for the failures counter: the member's input (`user`), the operator's setup
 * (`setup`: weights, backend), a too-large result, or a fault of ours. The first three fail the same way however
 * often they are tried, and none is tried again: a failed job ends, refunded.
 */
function failureClass(error: unknown): 'user' | 'setup' | 'too-large' | 'internal' {
  if (error instanceof ImageTooLargeError) return 'too-large';
  const { audience } = memberReply(error);
  return audience === 'internal' ? 'internal' : audience === 'operator' ? 'setup' : 'user';
}

/**
 * What the member reads when their job fails, through the one member-error base: their own mistake in their
 * words, the operator's as the general sentence for a setup problem (its cause in the log), anything else in
 * general words.
 */
function userMessage(error: unknown): string {
  if (error instanceof ImageTooLargeError) {
    return 'The painting came out larger than this bot can store; please ask for a smaller size.';
  }
  const reply = memberReply(error);
  return reply.audience === 'internal' ? GENERIC_FAILURE : reply.text;
}
