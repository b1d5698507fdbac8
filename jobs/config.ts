import { join, resolve } from 'node:path';
import { z } from 'zod';
import { count, type Env, millis, parseEnv, positive } from '../lib/env.ts';
import { ITERATIONS, LAYERS, type LayersChoice, type Limits, SIZE, STRENGTH } from '../lib/request-rules.ts';

/**
 * The core's settings (the job system and its database), read by every process that opens the core: the bot,
 * the shard manager and its shards, the workers. The `stylize` command reads only the parts it shares with them
 * (where the data and presets are: {@link parseDataPaths}; the operator's defaults: {@link parseJobDefaults}).
 */

const pathsSchema = z.object({
  /** Where the bot keeps its database, presets and caches. */
  DATA_DIR: z.string().default('data'),
  /** A local folder of preset paintings, named after the works (e.g. starry_night.jpg). */
  PRESETS_DIR: z.string().optional(),
});

/** What a painting gets for what the member leaves out, on both platforms and in the CLI. */
const jobDefaultsSchema = z.object({
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
});

const jobSystemSchema = z.object({
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
});

export type DatabaseConfig = { provider: 'sqlite' | 'postgresql'; url: string };

/** The operator's defaults for one painting's options. */
export interface JobDefaults {
  layers: LayersChoice;
  size: number;
  iterations: number;
  strength: number;
}

export interface DataPaths {
  dataDir: string;
  presetsDir: string;
}

export interface CoreConfig extends DataPaths {
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
}

/** DATA_DIR and PRESETS_DIR, resolved to absolute paths. */
export function parseDataPaths(env: Env): DataPaths {
  const e = parseEnv(pathsSchema, env);
  const dataDir = resolve(e.DATA_DIR);
  return { dataDir, presetsDir: resolve(e.PRESETS_DIR ?? join(dataDir, 'presets')) };
}

/** STYLIZE_LAYERS, STYLIZE_SIZE, STYLIZE_ITERATIONS and STYLIZE_STRENGTH. */
export function parseJobDefaults(env: Env): JobDefaults {
  const e = parseEnv(jobDefaultsSchema, env);
  return {
    layers: e.STYLIZE_LAYERS,
    size: e.STYLIZE_SIZE,
    iterations: e.STYLIZE_ITERATIONS,
    strength: e.STYLIZE_STRENGTH,
  };
}

/** Everything the core reads; throws a one-line Error naming each wrong variable. */
export function parseCoreConfig(env: Env): CoreConfig {
  const paths = parseDataPaths(env);
  const jobDefaults = parseJobDefaults(env);
  const e = parseEnv(jobSystemSchema, env);
  if (e.STALE_AFTER_MS <= e.HEARTBEAT_MS) {
    throw new Error('invalid configuration: STALE_AFTER_MS must be longer than HEARTBEAT_MS');
  }
  const url = e.DATABASE_URL ?? `file:${join(paths.dataDir, 'stylize.db')}`;
  return {
    ...paths,
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
  };
}
