import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import sharp from 'sharp';
import { type CoreConfig, parseCoreConfig } from '../jobs/config.ts';
import { type Core, openCore } from '../jobs/core.ts';
import type { JobEvents } from '../jobs/events.ts';
import { completeJob, type Lease } from '../jobs/jobs.ts';
import type { Paints } from '../jobs/scheduler.ts';
import { parseProcessConfig } from '../lib/env.ts';
import { createLogger } from '../lib/log.ts';
import { type SubmitRequest, submitJob } from '../rules/submit.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';

/** Shared by the job-system tests: throwaway databases, fast settings, worker and bot processes. */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export type Provider = 'sqlite' | 'postgresql';
export const PROVIDERS: Provider[] = ['sqlite', 'postgresql'];

/**
 * Quick polling and progress; the engine runs the shallow layers of the real weights. The stale timeout stays
 * generous (several workers starting at once on two cores can be busy for a second or two): the recovery
 * tests shorten it where a takeover is what they test.
 */
export const FAST_ENV: Record<string, string> = {
  STYLIZE_WEIGHTS_DIR: SHALLOW_WEIGHTS,
  HEARTBEAT_MS: '200',
  STALE_AFTER_MS: '20000',
  PROGRESS_EVERY_MS: '0',
  POLL_MIN_MS: '20',
  POLL_MAX_MS: '200',
  LOG_LEVEL: 'info',
  // Several processes at once: each health server on a free port.
  HEALTH_PORT: '0',
  WORKER_HEALTH_PORT: '0',
};

/** A claimer that paints any job the tests submit (the scheduler's capability filter is tested on its own). */
export const PAINTS_ANY: Paints = { auto: 4096, paper: 4096, shallow: 4096 };

/** Daily and queued-job limits no test of the scheduler runs into: only the running limits apply. */
export const NO_DAILY_LIMITS: Record<string, string> = {
  QUOTA_SERVER_DAILY_JOBS: '10000',
  QUOTA_MEMBER_DAILY_JOBS: '10000',
  QUOTA_MEMBER_ACTIVE_JOBS: '1000',
};

export interface TestDatabase {
  provider: Provider;
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

/** A fresh SQLite file, or a fresh PostgreSQL database `stylize_test_<random>` on the local server. */
export async function createTestDatabase(provider: Provider): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stylize-test-'));
  if (provider === 'sqlite') {
    return {
      provider,
      url: `file:${join(dataDir, 'stylize.db')}`,
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const admin = await postgresAdmin();
  const name = `stylize_test_${randomBytes(6).toString('hex')}`;
  await admin.client.query(`CREATE DATABASE ${name}`);
  await admin.client.end();
  const url = new URL(admin.url);
  url.pathname = `/${name}`;
  return {
    provider,
    url: url.toString(),
    dataDir,
    async drop() {
      const again = await postgresAdmin();
      await again.client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The local server with trust auth: as `postgres` or, where that role does not exist, `root`. */
async function postgresAdmin(): Promise<{ client: pg.Client; url: string }> {
  const candidates = process.env.TEST_POSTGRES_URL
    ? [process.env.TEST_POSTGRES_URL]
    : ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://root@127.0.0.1:5432/postgres'];
  const failures: string[] = [];
  for (const url of candidates) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return { client, url };
    } catch (error) {
      failures.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new Error(`the job-system tests need PostgreSQL on 127.0.0.1:5432 (${failures.join('; ')})`);
}

export function testEnv(db: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return { ...FAST_ENV, DATA_DIR: db.dataDir, DATABASE_URL: db.url, ...extra };
}

export function testConfig(db: TestDatabase, extra: Record<string, string> = {}): CoreConfig {
  return parseCoreConfig(testEnv(db, extra));
}

export async function testCore(db: TestDatabase, extra: Record<string, string> = {}): Promise<Core> {
  const env = testEnv(db, { LOG_LEVEL: 'warn', ...extra });
  return openCore(parseCoreConfig(env), createLogger(parseProcessConfig(env), 'test'));
}

/**
 * A database blip, made real: until `heal()`, the database refuses the writes (`INSERT` or `UPDATE`) of
 * `table` whose rows match `when` (SQL on NEW and OLD), with the error a full disk gives.
 */
export async function failWrites(
  core: Core,
  name: string,
  spec: { table: 'Job' | 'Image' | 'Server'; op: 'INSERT' | 'UPDATE'; when: string },
): Promise<{ heal(): Promise<void> }> {
  const { prisma, provider } = core.db;
  await prisma.$executeRawUnsafe(`CREATE TABLE "${name}" ("on" INTEGER)`);
  await prisma.$executeRawUnsafe(`INSERT INTO "${name}" VALUES (1)`);
  if (provider === 'sqlite') {
    await prisma.$executeRawUnsafe(
      `CREATE TRIGGER "${name}" BEFORE ${spec.op} ON "${spec.table}"
       WHEN (${spec.when}) AND EXISTS (SELECT 1 FROM "${name}")
       BEGIN SELECT RAISE(ABORT, 'database or disk is full (test: ${name})'); END`,
    );
  } else {
    await prisma.$executeRawUnsafe(
      `CREATE FUNCTION "${name}"() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM "${name}") THEN
           RAISE EXCEPTION 'could not extend file: No space left on device (test: ${name})' USING ERRCODE = '53100';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql`,
    );
    await prisma.$executeRawUnsafe(
      `CREATE TRIGGER "${name}" BEFORE ${spec.op} ON "${spec.table}" FOR EACH ROW
       WHEN (${spec.when}) EXECUTE FUNCTION "${name}"()`,
    );
  }
  return {
    heal: async () => {
      await prisma.$executeRawUnsafe(`DELETE FROM "${name}"`);
    },
  };
}

/** A small picture, different for each seed, as PNG bytes. */
export async function picture(seed: number, width = 40, height = 30): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * (7 + seed) + seed * 31) % 256;
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** A request from member `requester` of Discord server `server`, for a tiny fast painting by default. */
export async function request(
  server: string,
  requester: string,
  options: SubmitRequest['options'] = {},
): Promise<SubmitRequest> {
  return {
    server: { platform: 'discord', id: server },
    channelId: `${server}-channel`,
    requesterId: requester,
    content: await picture(1),
    styles: [{ image: await picture(2), name: 'test painting' }],
    options: { size: 16, iterations: 1, layers: 'shallow', ...options },
  };
}

/** Stores two small pictures as the result of the job `lease` holds, as its worker finishing it would. */
export async function finishJob(core: Core, lease: Lease): Promise<void> {
  const refs = {
    resultRef: await core.images.put({ mime: 'image/png', bytes: await picture(4, 24, 18) }),
    comparisonRef: await core.images.put({ mime: 'image/png', bytes: await picture(5, 72, 18) }),
  };
  if (!(await completeJob(core.db, core.images, lease, refs, new Date()))) {
    throw new Error(`job ${lease.jobId}: the lease was lost before it was finished`);
  }
}

export const submit = async (
  core: Core,
  server: string,
  requester: string,
  options?: SubmitRequest['options'],
) => submitJob(core, await request(server, requester, options));

export interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The programs the tests run as processes: the bot, the shard manager, the worker, and the harnesses in test/jobs/. */
export type Program = 'worker/main.ts' | 'bot/main.ts' | 'bot/shard.ts' | `test/jobs/${string}.ts`;

/**
 * `node --import tsx FILE` with only the given environment (plus PATH and HOME), its output collected. With
 * `stdin: 'pipe'` the test writes to `child.process.stdin` (the harnesses in test/jobs/ take commands there).
 */
export function spawnProcess(
  file: Program,
  env: Record<string, string>,
  options: { stdin?: 'pipe' | 'ignore' } = {},
): Child {
  return spawnNode(['--import', 'tsx', file], env, options);
}

/** `node ARGS…` in the project with only the given environment (plus PATH and HOME), its output collected. */
export function spawnNode(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: 'pipe' | 'ignore' } = {},
): Child {
  return spawnCommand(process.execPath, args, env, options);
}

/**
 * `npm run SCRIPT` in the project with only the given environment, in a process group of its own as a terminal
 * runs it (`process.kill(-pid, 'SIGINT')` is a Ctrl-C to npm, the bot and its workers), its output collected.
 */
export function spawnNpm(script: string, env: Record<string, string>): Child {
  return spawnCommand('npm', ['run', script], env, { detached: true });
}

function spawnCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { stdin?: 'pipe' | 'ignore'; detached?: boolean },
): Child {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

/** Stops a child if it still runs, and waits for it. */
export async function stopProcess(child: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill(signal);
  await child.exited;
}

/** The port a process's health server took (port 0: a free one), from its log line. */
export const healthPort = (child: Child) =>
  waitFor('the health server', async () => {
    const line = logLines(child.output(), 'health server listening')[0];
    return typeof line?.port === 'number' ? line.port : undefined;
  });

/** The log lines (pino JSON) a process wrote with this message. */
export function logLines(output: string, msg: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);
}

/**
 * The replies of a harness in test/jobs/ (JSON lines `{"reply": …}` on its stdout), one at a time in order;
 * `send` writes a command line to its stdin.
 */
export function harness(child: Child) {
  let read = 0;
  const poll = (): Record<string, unknown> | undefined => {
    const reply = child
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{"reply":'))
      .map((line) => (JSON.parse(line) as { reply: Record<string, unknown> }).reply)[read];
    if (reply) read++;
    return reply;
  };
  return {
    send(command: string) {
      child.process.stdin!.write(`${command}\n`);
    },
    /** The next reply if it has come, without waiting. */
    poll,
    next(what: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
      return waitFor(
        what,
        async () => {
          if (child.process.exitCode !== null)
            throw new Error(`${what}: the harness exited\n${child.output()}`);
          return poll();
        },
        timeoutMs,
      );
    },
  };
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A JobEvents that records every call, as a chat adapter would receive them. */
export function recordingEvents() {
  const calls: { kind: keyof JobEvents; jobId: number; detail?: unknown }[] = [];
  const events: JobEvents = {
    progress: async (job, progress) => {
      calls.push({ kind: 'progress', jobId: job.id, detail: progress });
    },
    completed: async (job, images) => {
      calls.push({ kind: 'completed', jobId: job.id, detail: images });
    },
    failed: async (job, message) => {
      calls.push({ kind: 'failed', jobId: job.id, detail: message });
    },
    cancelled: async (job) => {
      calls.push({ kind: 'cancelled', jobId: job.id });
    },
  };
  const count = (kind: keyof JobEvents, jobId: number) =>
    calls.filter((c) => c.kind === kind && c.jobId === jobId).length;
  return { events, calls, count };
}
