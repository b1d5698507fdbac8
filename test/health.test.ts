import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { startHealthServer } from '../lib/health.ts';
import { onShutdownSignals } from '../lib/signals.ts';
import {
  type Child,
  createTestDatabase,
  healthPort,
  logLines,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

const get = async (port: number, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
};

/** prom-client's default metrics of a process: its memory and heap in use, its event loop's lag, its GC pauses. */
function expectProcessMetrics(text: string) {
  expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m);
  expect(text).toMatch(/^nodejs_heap_size_used_bytes [1-9]\d*$/m);
  expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
  expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
}

// The real bot (no chat platform, no local workers) and the real worker process on one SQLite database.
describe('health server', () => {
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stopProcess(c, 'SIGKILL')));
    await core?.close();
    await db?.drop();
  });

  it('the bot reports the queue per server, and the worker its health, jobs and a clean SIGTERM', async () => {
    const bot = spawnProcess('bot/main.ts', testEnv(db, { HEALTH_PORT: '0', BOT_WORKERS: '0' }));
    children.push(bot);
    const botPort = await healthPort(bot);
    await submit(core, 'health-server', 'member-1');

    expect((await get(botPort, '/healthz')).status).toBe(200);
    await waitFor('the bot ready', async () => (await get(botPort, '/readyz')).status === 200);
    const botMetrics = (await get(botPort, '/metrics')).text;
    expect(botMetrics).toContain('stylize_queue_depth{platform="discord",server="health-server"} 1');
    expect(botMetrics).toContain('stylize_jobs{status="queued"} 1');
    for (const name of [
      'stylize_platform_rate_limited_total',
      'stylize_job_duration_seconds',
      'stylize_job_failures_total',
      'stylize_worker_iterations_per_second',
    ]) {
      expect(botMetrics).toContain(`# TYPE ${name}`);
    }
    expectProcessMetrics(botMetrics);
    expect(botMetrics).not.toMatch(/TOKEN|SECRET/i);
    await stopProcess(bot);
    expect(await bot.exited).toBe(0);

    const worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_HEALTH_PORT: '0' }));
    children.push(worker);
    const port = await healthPort(worker);
    expect((await get(port, '/healthz')).status).toBe(200);
    expect((await get(port, '/readyz')).status).toBe(200);
    const metrics = await waitFor('the job to finish', async () => {
      const text = (await get(port, '/metrics')).text;
      return text.includes('stylize_job_duration_seconds_count{outcome="succeeded"} 1') && text;
    });
    expect(metrics).toContain('stylize_jobs{status="succeeded"} 1');
    expect(metrics).not.toContain('stylize_queue_depth{');
    expect(metrics).toMatch(/^stylize_worker_iterations_per_second \d/m);
    expectProcessMetrics(metrics);

    worker.process.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('listens on HEALTH_HOST and WORKER_HEALTH_HOST only', async () => {
    // 127.0.0.2 is a loopback address of its own on Linux: a server bound to it does not answer on 127.0.0.1.
    const host = '127.0.0.2';
    const bot = spawnProcess('bot/main.ts', testEnv(db, { BOT_WORKERS: '0', HEALTH_HOST: host }));
    const worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_HEALTH_HOST: host }));
    children.push(bot, worker);
    for (const child of [bot, worker]) {
      const port = await healthPort(child);
      expect(logLines(child.output(), 'health server listening')[0]!.host).toBe(host);
      expect((await fetch(`http://${host}:${port}/healthz`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
    await Promise.all([stopProcess(bot), stopProcess(worker)]);
  });

  it('/readyz turns 503 with a reason once stopping, or when the own check fails', async () => {
    let ready = true;
    const health = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      db: core.db,
      log: core.log,
      check: () => (ready ? { ready: true } : { ready: false, reason: 'chat adapters connecting' }),
    });
    try {
      expect((await get(health.port, '/readyz')).status).toBe(200);
      ready = false;
      expect(await get(health.port, '/readyz')).toEqual({
        status: 503,
        text: JSON.stringify({ status: 'not ready', reason: 'chat adapters connecting' }),
      });
      ready = true;
      health.markStopping();
      const stopping = await get(health.port, '/readyz');
      expect(stopping.status).toBe(503);
      expect(JSON.parse(stopping.text).reason).toBe('stopping');
      expect((await get(health.port, '/healthz')).status).toBe(200);
      expect((await get(health.port, '/nope')).status).toBe(404);
    } finally {
      await health.close();
    }
  });
});

describe('shutdown signals', () => {
  it('the first SIGTERM or SIGINT shuts down gracefully, a second exits at once with status 1', () => {
    const target = new EventEmitter();
    const shutdowns: string[] = [];
    const exits: number[] = [];
    onShutdownSignals(
      (signal) => shutdowns.push(signal),
      (code) => exits.push(code),
      target,
    );
    target.emit('SIGTERM');
    expect(shutdowns).toEqual(['SIGTERM']);
    expect(exits).toEqual([]);
    target.emit('SIGINT');
    expect(shutdowns).toEqual(['SIGTERM']);
    expect(exits).toEqual([1]);
  });
});
