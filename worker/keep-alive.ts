import { hostname } from 'node:os';
import { heartbeat, requeueStale, workerAlive } from '../jobs/worker-api.ts';
import type { Logger } from '../lib/log.ts';
import { stopJob, type WorkerContext } from './context.ts';

/**
 * The worker's two timers, on the HEARTBEAT_MS period. The heartbeat renews the worker's own row (what it can
 * paint, its speed) and each running job's lease, whose answer carries the cancel flag. The sweep takes back the
 * stale jobs of workers that died: every live worker sweeps, busy or not, so a dead worker's job is back in the
 * queue within STALE_AFTER_MS plus one heartbeat. `ready` settles after the first heartbeat (never rejects).
 */
export function keepAlive(ctx: WorkerContext): { ready: Promise<void>; stop(): void } {
  const { heartbeatMs } = ctx.core.config.jobs;
  const heartbeats = every(ctx.log, 'heartbeat', heartbeatMs, () => beat(ctx));
  const sweeps = every(ctx.log, 'stale job sweep', heartbeatMs, () => sweep(ctx));
  return {
    ready: heartbeats.ran,
    stop() {
      heartbeats.stop();
      sweeps.stop();
    },
  };
}

/** One heartbeat: the worker's row, then each running job's lease; a job lost or cancelled is stopped. */
async function beat(ctx: WorkerContext): Promise<void> {
  const now = new Date();
  const { capability } = await ctx.painter.capability();
  const { id, concurrency, speed } = ctx;
  await workerAlive(ctx.core.db, { id, host: hostname(), concurrency, speed, capability }, now);
  for (const job of ctx.active.values()) {
    const state = await heartbeat(ctx.core.db, job.lease, now);
    if (state !== 'ok') stopJob(job, state);
  }
}

/** Puts back in the queue the jobs whose worker stopped heartbeating (failing those stopped too many times). */
async function sweep(ctx: WorkerContext): Promise<void> {
  const { requeued, failed } = await requeueStale(ctx.core.db, ctx.core.config.jobs, new Date());
  if (requeued.length > 0)
    ctx.log.warn({ jobs: requeued }, 'took back jobs whose worker stopped heartbeating');
  if (failed.length > 0) ctx.log.warn({ jobs: failed }, 'failed jobs whose workers stopped too many times');
}

/**
 * Runs `task` now and every `periodMs`, a run never overlapping the previous one (the database may be slow); a
 * failure is logged and the next period tries again. `ran` settles when the first run does.
 */
function every(
  log: Logger,
  what: string,
  periodMs: number,
  task: () => Promise<void>,
): { ran: Promise<void>; stop(): void } {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= task()
      .catch((error) => log.error({ err: error }, `${what} failed`))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(run, periodMs);
  return { ran: run(), stop: () => clearInterval(timer) };
}
