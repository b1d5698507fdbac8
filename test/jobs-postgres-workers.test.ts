import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import {
  type Child,
  createTestDatabase,
  NO_DAILY_LIMITS,
  recordingEvents,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// Scaling out: three worker processes share one PostgreSQL database. Thirty jobs from three servers and six
// members each run exactly once, none is lost, and the bot's notifier (woken by LISTEN/NOTIFY) passes on
// exactly one completion per job.
describe('three workers on postgresql', () => {
  let db: TestDatabase;
  let core: Core;
  let notifier: Notifier | undefined;
  const workers: Child[] = [];
  const env = {
    ...NO_DAILY_LIMITS,
    QUOTA_SERVER_RUNNING_JOBS: '3',
    QUOTA_MEMBER_RUNNING_JOBS: '3',
    // The notifier's safety-net poll is slow here, so the events must come through NOTIFY.
    POLL_MAX_MS: '60000',
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgresql');
    core = await testCore(db, env);
  });
  afterAll(async () => {
    for (const worker of workers) await stopProcess(worker);
    await notifier?.stop();
    await core?.close();
    await db?.drop();
  });

  it('runs each of 30 jobs exactly once', async () => {
    const recorded = recordingEvents();
    notifier = startNotifier(core, { discord: recorded.events });
    for (let i = 0; i < 3; i++)
      workers.push(spawnProcess('worker/main.ts', testEnv(db, { ...env, POLL_MAX_MS: '200' })));
    await waitFor('three workers', async () => (await core.db.prisma.worker.count()) === 3, 90_000);

    const ids: number[] = [];
    for (let i = 0; i < 30; i++) ids.push((await submit(core, `s${i % 3}`, `m${i % 6}`)).job.id);
    await waitFor(
      'all 30 jobs',
      async () =>
        (await core.db.prisma.job.count({ where: { status: { in: ['succeeded', 'failed'] } } })) === 30,
      120_000,
    );

    const jobs = await core.db.prisma.job.findMany({ orderBy: { id: 'asc' } });
    expect(jobs.map((j) => j.id)).toEqual(ids);
    expect(jobs.map((j) => `${j.status}/${j.attempts}`)).toEqual(ids.map(() => 'succeeded/1'));
    expect(new Set(jobs.map((j) => j.workerId)).size).toBeGreaterThanOrEqual(2);

    await waitFor('the completions', async () => ids.every((id) => recorded.count('completed', id) >= 1));
    await notifier.drain();
    expect(ids.map((id) => recorded.count('completed', id))).toEqual(ids.map(() => 1));
  });
});
