import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process (bot or worker), served on /metrics by lib/health.ts. The chat adapters
 * and the worker loop count into these; the job gauges (jobs/gauges.ts) are read from the database on each scrape. Labels never
 * carry tokens or member ids: servers appear as `platform` and the server's id, which the platform shows anyway.
 */
export const registry = new Registry();

/**
 * prom-client's process metrics: CPU, resident memory, open files (`process_*`), heap and its spaces, event-loop
 * lag, GC pauses by kind, active handles (`nodejs_*`): what tells a leak or a blocked loop from a slow job.
 */
collectDefaultMetrics({ register: registry });

/** 429 answers from a platform's API (the client libraries wait them out). */
export const rateLimited = new Counter({
  name: 'stylize_platform_rate_limited_total',
  help: 'Rate-limit (429) answers from the chat platforms, by platform',
  labelNames: ['platform'] as const,
  registers: [registry],
});

/**
 * Members' files whose download brought back something other than the file: a web page (a sign-in page), a
 * redirect off the platform's file hosts, a 401/403. The bot's setup is at fault (a token's scope, a setting),
 * so the operator has to act; `reason` is `web_page`, `redirected` or `refused`.
 */
export const downloadFaults = new Counter({
  name: 'stylize_download_faults_total',
  help: "Members' file downloads that returned something other than the file, by platform and reason",
  labelNames: ['platform', 'reason'] as const,
  registers: [registry],
});

/** Time from a worker taking a job to the job ending, by how it ended. */
export const jobDuration = new Histogram({
  name: 'stylize_job_duration_seconds',
  help: 'Seconds a worker spent on a job, by outcome',
  labelNames: ['outcome'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
  registers: [registry],
});

/** Jobs that failed, by the class of the reason: `user` (bad input), `too-large`, `internal`. */
export const jobFailures = new Counter({
  name: 'stylize_job_failures_total',
  help: 'Jobs that failed, by reason class',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** The painting speed of the latest progress report of this worker. */
export const iterationsPerSecond = new Gauge({
  name: 'stylize_worker_iterations_per_second',
  help: 'Optimiser iterations per second of the latest job progress report',
  registers: [registry],
});

/**
 * The compute backend of this worker, as an info metric (value 1): what was asked for (WORKER_BACKEND), what
 * runs, on which device, and the faster backends `auto` skipped as `backend:reason` (e.g.
 * `onnx-cuda:not-installed,onnx-webgpu:software-adapter`).
 */
export const computeBackend = new Gauge({
  name: 'stylize_worker_compute_backend',
  help: 'Compute backend of this worker (1): requested, chosen, device, and skipped backends with the reason',
  labelNames: ['requested', 'backend', 'device', 'skipped'] as const,
  registers: [registry],
});
