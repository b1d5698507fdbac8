import type { Core, Lease } from '../jobs/worker-api.ts';
import type { Logger } from '../lib/log.ts';
import type { Painter } from './paint.ts';

/** Why a job was stopped before it ended: its member cancelled it, another worker took it over, or a shutdown. */
export type StopReason = 'cancel' | 'lost' | 'shutdown';

/** A job this worker is painting: its lease, and the controller that stops its painting. */
export interface ActiveJob {
  readonly lease: Lease;
  readonly controller: AbortController;
  /** The first reason it was stopped for: the one its end follows (job-end.ts). */
  reason?: StopReason;
}

/** What the units of one worker process share: who it is, what it paints with, and its running jobs. */
export interface WorkerContext {
  /** Unique per process: host, pid and a random suffix. */
  readonly id: string;
  readonly core: Core;
  readonly painter: Painter;
  readonly log: Logger;
  /** Jobs painted at once (WORKER_CONCURRENCY). */
  readonly concurrency: number;
  /** The jobs being painted, by job id: the heartbeat holds their leases, and a shutdown stops them. */
  readonly active: Map<number, ActiveJob>;
  /** Aborted when the worker stops: no more claims, and the slots' waits end at once. */
  readonly stopped: AbortSignal;
  /** Of one slot, measured on the latest job this worker finished (see measuredSpeed); null before one. */
  speed: number | null;
}

/** Stops a job's painting; the first reason given is the one its end follows. */
export function stopJob(job: ActiveJob, reason: StopReason): void {
  job.reason ??= reason;
  job.controller.abort();
}

/** Backoff of retried writes (progress, results): from the first wait, doubling up to the longest. */
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 5_000;
