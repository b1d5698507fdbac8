import { z } from 'zod';

/**
 * Reading the environment. Each process parses only the variables of the roles it plays (the core and its
 * database: jobs/config.ts; a worker and its engine: worker/config.ts; Discord, Slack: their config.ts; the
 * health server: lib/health.ts), once, at its start, from the environment its entry point passes in: nothing
 * else reads process.env. A worker therefore starts whatever the chat platforms' variables hold, and a typo in
 * one platform's stops only the processes that serve it.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * `env` parsed by `schema`, or an Error whose one line names every variable that is wrong and why. zod's messages
 * never include the value, so a malformed secret is not echoed into a log.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Whole numbers from 0, from 1, ports (0: any free one) and durations in ms, each with its default. */
export const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
export const positive = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
export const millis = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
/** A listening address: all interfaces by default. */
export const host = z
  .string()
  .regex(/^[0-9A-Za-z.:-]+$/, 'must be an IP address or a host name, such as 127.0.0.1 or ::')
  .default('0.0.0.0');

const processSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Set by npm in the scripts it runs (`start`, `worker`): such a process stops when npm goes away. */
  npm_lifecycle_event: z.string().optional(),
});

/** What every long-running process reads about itself. */
export interface ProcessConfig {
  logLevel: z.infer<typeof processSchema>['LOG_LEVEL'];
  /** The npm script that started this process, if npm did (see onParentExit in signals.ts). */
  npmScript: string | undefined;
}

export function parseProcessConfig(env: Env): ProcessConfig {
  const e = parseEnv(processSchema, env);
  return { logLevel: e.LOG_LEVEL, npmScript: e.npm_lifecycle_event };
}

const localWorkersSchema = z.object({
  /**
   * Worker processes `npm start` runs beside the bot (0: all workers run elsewhere, with `npm run worker`);
   * they share the machine's cores and memory, so each worker reads it too.
   */
  BOT_WORKERS: count(1),
});

/** BOT_WORKERS: the worker processes of this machine, for the bot that starts them and the workers that share it. */
export function parseLocalWorkers(env: Env): number {
  return parseEnv(localWorkersSchema, env).BOT_WORKERS;
}
