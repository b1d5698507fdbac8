import { join, resolve } from 'node:path';
import { z } from 'zod';
import { BACKENDS, type Backend } from '../worker/engine/backends.ts';
import { defaultWeightsDir } from '../worker/weights/download.ts';
import { type DiscordConfig, parseDiscordConfig } from './discord/config.ts';
import { ITERATIONS, LAYERS, type LayersChoice, SIZE, STRENGTH } from './request-rules.ts';
import { parseSlackConfig, type SlackConfig } from './slack/config.ts';

/**
 * Everything the programs read from the environment, parsed once at start. Nothing else reads process.env.
 * Secrets (platform tokens) are added here by the chat adapters' issues and are never logged.
 */
const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const positive = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
const millis = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const host = z
  .string()
  .regex(/^[0-9A-Za-z.:-]+$/, 'must be an IP address or a host name, such as 127.0.0.1 or ::')
  .default('0.0.0.0');

const envSchema = z.object({
  /** Where the bot keeps its database, presets and caches. */
  DATA_DIR: z.string().default('data'),
  /** A local folder of preset paintings, named after the works (e.g. starry_night.jpg). */
  PRESETS_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** file:PATH for SQLite (default $DATA_DIR/stylize.db) or postgres://… for PostgreSQL. */
  DATABASE_URL: z
    .string()
    .regex(
      /^(file:.+|postgres(ql)?:\/\/.+)$/,
      'must be file:PATH (SQLite) or postgres://user@host/db (PostgreSQL)',
    )
    .optional(),

  // The operator's default limits; each server's admins can change theirs with /stylize-admin.
  QUOTA_SERVER_DAILY_JOBS: count(200),
  QUOTA_MEMBER_DAILY_JOBS: count(20),
  QUOTA_MEMBER_ACTIVE_JOBS: count(3),
  QUOTA_MAX_SIZE: positive(512),
  QUOTA_MAX_ITERATIONS: positive(500),
  QUOTA_SERVER_RUNNING_JOBS: positive(2),
  QUOTA_MEMBER_RUNNING_JOBS: positive(1),

  // What a painting gets for what the member leaves out (size and iterations lowered to each server's limits),
  // on both platforms and in the CLI.
  /**
   * The VGG-19 layers: paper (the paper's; the full weights), shallow (blocks 1-3, 3-4× faster), or auto: the
   * paper's where a worker's weights hold blocks 4-5, else the shallow ones, with a warning at its start.
   */
  STYLIZE_LAYERS: z.enum(LAYERS, { error: `must be one of ${LAYERS.join(', ')}` }).default('auto'),
  STYLIZE_SIZE: z.coerce.number().int().min(SIZE.min).max(SIZE.max).default(SIZE.default),
  STYLIZE_ITERATIONS: z.coerce
    .number()
    .int()
    .min(ITERATIONS.min)
    .max(ITERATIONS.max)
    .default(ITERATIONS.default),
  /** For paintings without a recommended strength of their own (a member's upload). */
  STYLIZE_STRENGTH: z.coerce.number().min(STRENGTH.min).max(STRENGTH.max).default(STRENGTH.default),

  /** Largest image the store accepts, in bytes (inputs are normalised first, so this bounds results). */
  MAX_IMAGE_BYTES: positive(20 * 1024 * 1024),
  /** Finished jobs' images are deleted this long after the job ended. */
  IMAGE_RETENTION_HOURS: z.coerce.number().min(0).default(72),
  /** A running job is tried this many times in all before it fails (its workers stopped heartbeating). */
  MAX_ATTEMPTS: positive(3),
  HEARTBEAT_MS: positive(5_000),
  /** A running job whose worker has not heartbeated for this long is taken back. */
  STALE_AFTER_MS: positive(60_000),
  /** Progress (iteration, loss, ETA, preview) is written at most this often. */
  PROGRESS_EVERY_MS: millis(3_000),
  /** Polling intervals (bot events on SQLite, idle workers): from the minimum, doubling up to the maximum. */
  POLL_MIN_MS: positive(250),
  POLL_MAX_MS: positive(5_000),

  /**
   * Jobs one worker process paints at once, on shared sessions; they take turns on the device, so more than
   * one mainly overlaps one job's optimiser steps, image encoding and database writes with another's graph.
   */
  WORKER_CONCURRENCY: positive(1),
  /**
   * Compute backend of the workers: auto (the fastest real device: onnx-cuda, tensorflow-gpu, onnx-webgpu on
   * a hardware adapter, else onnx), or one by name: onnx, onnx-cuda, onnx-webgpu, tensorflow-gpu,
   * tensorflow, wasm, cpu. A worker whose named backend cannot run here does not start.
   */
  WORKER_BACKEND: z.enum(BACKENDS, { error: `must be one of ${BACKENDS.join(', ')}` }).default('auto'),
  /**
   * Worker processes `npm start` runs beside the bot (0: all workers run elsewhere, with `npm run worker`);
   * they share the machine's cores (each gets cores / BOT_WORKERS threads on the CPU provider).
   */
  BOT_WORKERS: count(1),

  /** The bot's health server (/healthz, /readyz, /metrics); 0 picks a free port. */
  HEALTH_PORT: port(9090),
  /** Each worker's health server; 0 picks a free port (the bot gives the workers it runs 0, so they never collide). */
  WORKER_HEALTH_PORT: port(9091),
  /** The addresses they listen on: all interfaces by default, 127.0.0.1 to keep them to this machine. */
  HEALTH_HOST: host,
  WORKER_HEALTH_HOST: host,

  /** Set by npm in the scripts it runs (`start`, `worker`): such a process stops when npm goes away. */
  npm_lifecycle_event: z.string().optional(),
});

export type DatabaseConfig = { provider: 'sqlite' | 'postgresql'; url: string };

/** Limits per server; `null` in a server's settings means "the operator's default" from here. */
export interface Limits {
  serverDailyJobs: number;
  memberDailyJobs: number;
  memberActiveJobs: number;
  maxSize: number;
  maxIterations: number;
  serverRunningJobs: number;
  memberRunningJobs: number;
}

/** The operator's defaults for one painting's options. */
export interface JobDefaults {
  layers: LayersChoice;
  size: number;
  iterations: number;
  strength: number;
}

export interface Config {
  dataDir: string;
  weightsDir: string;
  presetsDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  database: DatabaseConfig;
  limits: Limits;
  jobDefaults: JobDefaults;
  jobs: {
    maxImageBytes: number;
    retentionMs: number;
    maxAttempts: number;
    heartbeatMs: number;
    staleAfterMs: number;
    progressEveryMs: number;
    pollMinMs: number;
    pollMaxMs: number;
  };
  worker: { concurrency: number; backend: Backend; localWorkers: number };
  /** Ports (0: any free port) and listening addresses of the health servers. */
  health: { botPort: number; botHost: string; workerPort: number; workerHost: string };
  /** The npm script that started this process, if npm did (see onParentExit in signals.ts). */
  npmScript: string | undefined;
  /** Set when DISCORD_TOKEN / DISCORD_APPLICATION_ID are: the bot then serves Discord. */
  discord: DiscordConfig | undefined;
  /** Set when SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET are: the bot then serves Slack. */
  slack: SlackConfig | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  if (e.STALE_AFTER_MS <= e.HEARTBEAT_MS) {
    throw new Error('invalid configuration: STALE_AFTER_MS must be longer than HEARTBEAT_MS');
  }
  const dataDir = resolve(e.DATA_DIR);
  const url = e.DATABASE_URL ?? `file:${join(dataDir, 'stylize.db')}`;
  const jobDefaults: JobDefaults = {
    layers: e.STYLIZE_LAYERS,
    size: e.STYLIZE_SIZE,
    iterations: e.STYLIZE_ITERATIONS,
    strength: e.STYLIZE_STRENGTH,
  };
  return {
    dataDir,
    // A per-user cache by default ($STYLIZE_WEIGHTS_DIR overrides), so every checkout shares one download.
    weightsDir: defaultWeightsDir(env),
    presetsDir: resolve(e.PRESETS_DIR ?? join(dataDir, 'presets')),
    logLevel: e.LOG_LEVEL,
    database: { provider: url.startsWith('file:') ? 'sqlite' : 'postgresql', url },
    limits: {
      serverDailyJobs: e.QUOTA_SERVER_DAILY_JOBS,
      memberDailyJobs: e.QUOTA_MEMBER_DAILY_JOBS,
      memberActiveJobs: e.QUOTA_MEMBER_ACTIVE_JOBS,
      maxSize: e.QUOTA_MAX_SIZE,
      maxIterations: e.QUOTA_MAX_ITERATIONS,
      serverRunningJobs: e.QUOTA_SERVER_RUNNING_JOBS,
      memberRunningJobs: e.QUOTA_MEMBER_RUNNING_JOBS,
    },
    jobDefaults,
    jobs: {
      maxImageBytes: e.MAX_IMAGE_BYTES,
      retentionMs: e.IMAGE_RETENTION_HOURS * 3_600_000,
      maxAttempts: e.MAX_ATTEMPTS,
      heartbeatMs: e.HEARTBEAT_MS,
      staleAfterMs: e.STALE_AFTER_MS,
      progressEveryMs: e.PROGRESS_EVERY_MS,
      pollMinMs: e.POLL_MIN_MS,
      pollMaxMs: Math.max(e.POLL_MIN_MS, e.POLL_MAX_MS),
    },
    worker: { concurrency: e.WORKER_CONCURRENCY, backend: e.WORKER_BACKEND, localWorkers: e.BOT_WORKERS },
    health: {
      botPort: e.HEALTH_PORT,
      botHost: e.HEALTH_HOST,
      workerPort: e.WORKER_HEALTH_PORT,
      workerHost: e.WORKER_HEALTH_HOST,
    },
    npmScript: e.npm_lifecycle_event,
    discord: parseDiscordConfig(env),
    slack: parseSlackConfig(env, jobDefaults),
  };
}
