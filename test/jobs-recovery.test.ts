import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import {
  type Child,
  createTestDatabase,
  logLines,
  recordingEvents,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// State lives in the database: a worker killed mid-job loses nothing (its job is taken back after the heartbeat
// timeout and finishes elsewhere), and a bot restarted with jobs queued carries on. No job succeeds twice.
describe('recovery on sqlite', () => {
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];
  const spawn = (file: 'worker/main.ts' | 'bot/main.ts', extra: Record<string, string> = {}) => {
    const child = spawnProcess(file, testEnv(db, extra));
    children.push(child);
    return child;
  };

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) await stopProcess(child, 'SIGKILL');
    await core?.close();
    await db?.drop();
  });

  const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });

  it('requeues the job of a worker killed with SIGKILL mid-job, and another worker finishes it once', async () => {
    const recorded = recordingEvents();
    const notifier: Notifier = startNotifier(core, { discord: recorded.events });
    try {
      const { job: submitted } = await submit(core, 'r', 'kim', { size: 24, iterations: 60 });
      // The killed worker paints with the (slower) WASM backend, so the job is surely still running when it dies.
      const quickTakeover = { STALE_AFTER_MS: '1500' };
      const slow = { ...quickTakeover, WORKER_BACKEND: 'wasm' };
      const first = spawn('worker/main.ts', slow);
      await waitFor('the job to be painting', async () => (await job(submitted.id)).iteration >= 1);
      const victim = (await job(submitted.id)).workerId;
      first.process.kill('SIGKILL');
      await first.exited;
      expect((await job(submitted.id)).status).toBe('running'); // nobody knows yet

      spawn('worker/main.ts', quickTakeover);
      await waitFor(
        'the job to finish',
        async () => (await job(submitted.id)).status === 'succeeded',
        90_000,
      );
      const done = await job(submitted.id);
      expect(done.attempts).toBe(2);
      expect(done.workerId).not.toBe(victim);
      expect(done.resultRef).not.toBeNull();
      const usage = await core.db.prisma.usage.findUniqueOrThrow({ where: { jobId: submitted.id } });
      expect(usage.refundedAt).toBeNull();
      await notifier.drain();
      expect(recorded.count('completed', submitted.id)).toBe(1);
    } finally {
      await notifier.stop();
    }
  });

  it('a restarted bot carries on with the queued jobs, each succeeding exactly once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++)
      ids.push((await submit(core, 'r', `m${i}`, { size: 24, iterations: 12 })).job.id);
    const succeeded = async () => core.db.prisma.job.count({ where: { status: 'succeeded' } });

    // WASM keeps each job at about a second, so jobs are still queued when the bot stops.
    const bot = spawn('bot/main.ts', { BOT_WORKERS: '1', WORKER_BACKEND: 'wasm' });
    await waitFor('a first job to finish', async () => (await succeeded()) >= 1, 90_000);
    bot.process.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    const between = await core.db.prisma.job.findMany({ where: { id: { in: ids } } });
    expect(between.filter((j) => j.status === 'running')).toEqual([]); // put back, not left hanging
    expect(between.filter((j) => j.status === 'queued').length).toBeGreaterThan(0);

    const again = spawn('bot/main.ts', { BOT_WORKERS: '1' });
    await waitFor('all jobs to finish', async () => (await succeeded()) === ids.length, 90_000);
    await waitFor(
      'the last events',
      async () =>
        logLines(again.output(), 'job completed').length + logLines(bot.output(), 'job completed').length ===
        ids.length,
    );
    again.process.kill('SIGTERM');
    expect(await again.exited).toBe(0);

    const completedEvents = [
      ...logLines(bot.output(), 'job completed'),
      ...logLines(again.output(), 'job completed'),
    ]
      .map((line) => line.jobId)
      .sort();
    expect(completedEvents).toEqual([...ids].sort());
    const jobs = await core.db.prisma.job.findMany({ where: { id: { in: ids } } });
    expect(jobs.map((j) => j.attempts)).toEqual([1, 1, 1, 1]);
  });
});
