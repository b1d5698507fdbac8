import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { abortableSleep, type Core, claimableSizes, claimJob, workerGone } from '../jobs/worker-api.ts';
import { type ActiveJob, stopJob, type WorkerContext } from './context.ts';
import { keepAlive } from './keep-alive.ts';
import type { Painter } from './paint.ts';
import { runJob } from './run-job.ts';

/**
 * A worker process's main loop: `concurrency` slots, each claiming a job (the fair, atomic claim in
 * jobs/scheduler.ts), painting it and storing the results (run-job.ts), then claiming the next. Its leases and
 * the sweep for dead workers' jobs are kept by two timers (keep-alive.ts). No failure of a job or of the
 * database stops the loop; a database blip while a finished painting is stored is waited out (with backoff)
 * rather than spending an attempt on painting it again (results.ts).
 */
export interface RunningWorker {
  readonly id: string;
  /** True once stop() was called: the worker takes no more jobs. */
  readonly stopping: boolean;
  /** Stops claiming; running jobs are put back in the queue for another worker. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Jobs painted at once (WORKER_CONCURRENCY; default 1). */
  concurrency?: number | undefined;
}

/** Starts the worker: its first heartbeat, then its slots. */
export function startWorker(core: Core, painter: Painter, options: WorkerOptions = {}): RunningWorker {
  const concurrency = options.concurrency ?? 1;
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const stopped = new AbortController();
  const ctx: WorkerContext = {
    id,
    core,
    painter,
    log: core.log.child({ worker: id }),
    concurrency,
    active: new Map<number, ActiveJob>(),
    stopped: stopped.signal,
    speed: null,
  };
  const timers = keepAlive(ctx);
  const slots = timers.ready.then(() =>
    Promise.all(Array.from({ length: concurrency }, () => claimLoop(ctx))),
  );
  ctx.log.info({ concurrency, database: core.db.provider }, 'worker started');

  return {
    id,
    get stopping() {
      return stopped.signal.aborted;
    },
    async stop() {
      stopped.abort();
      for (const job of ctx.active.values()) stopJob(job, 'shutdown');
      await slots;
      timers.stop();
      await workerGone(core.db, id).catch((error) => ctx.log.warn({ err: error }, 'could not sign off'));
      ctx.log.info('worker stopped');
    },
  };
}

/**
 * One slot: claims a job this worker can paint (layers its weights hold, sizes its memory fits) and runs it,
 * until the worker stops. With nothing to claim it waits, from POLL_MIN_MS doubling up to POLL_MAX_MS, and
 * claims again at once after a job.
 */
async function claimLoop(ctx: WorkerContext): Promise<void> {
  const { db, config } = ctx.core;
  const { pollMinMs, pollMaxMs } = config.jobs;
  let delay = pollMinMs;
  const paints = claimableSizes((await ctx.painter.capability()).capability);
  while (!ctx.stopped.aborted) {
    try {
      const lease = await claimJob(db, ctx.id, config.limits, paints);
      if (lease) {
        delay = pollMinMs;
        await runJob(ctx, lease);
        continue;
      }
    } catch (error) {
      ctx.log.error({ err: error }, 'could not claim a job; retrying');
    }
    await abortableSleep(delay, ctx.stopped);
    delay = Math.min(delay * 2, pollMaxMs);
  }
}
