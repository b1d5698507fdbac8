import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { completeJob, requestCancel } from '../jobs/jobs.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { jobStatus } from '../jobs/status.ts';
import { workerAlive } from '../jobs/workers.ts';
import { submitJob } from '../rules/submit.ts';
import {
  createTestDatabase,
  NO_DAILY_LIMITS,
  PAINTS_ANY,
  PROVIDERS,
  picture,
  request,
  submit,
  type TestDatabase,
  testCore,
} from './job-system.ts';

// What a member is told when a job is accepted: its place in the queue is the order in which it starts, and its
// ready time follows from the work ahead of it (pixels × iterations) and the workers' measured speed.
describe.each(PROVIDERS)('queue positions and ETAs on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  const env = {
    ...NO_DAILY_LIMITS,
    QUOTA_SERVER_RUNNING_JOBS: '10',
    QUOTA_MAX_ITERATIONS: '1000',
  };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, env);
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  /** Claims and finishes every queued job, returning their ids in the order they started. */
  async function runAll(): Promise<number[]> {
    const started: number[] = [];
    for (;;) {
      const lease = await claimJob(core.db, 'worker', core.config.limits, PAINTS_ANY);
      if (!lease) return started;
      started.push(lease.jobId);
      await completeJob(core.db, core.images, lease, { resultRef: 'r', comparisonRef: 'c' }, new Date());
    }
  }

  it('tells each of four members sending /stylize at once the position at which their job starts', async () => {
    // The first photo is large: decoding it takes far longer than the other three requests take in all.
    const large = await picture(9, 2400, 1800);
    const told: { id: number; position: number | null }[][] = [];
    const ran: number[][] = [];
    for (let round = 0; round < 3; round++) {
      const requests = await Promise.all(['big', 'm1', 'm2', 'm3'].map((m) => request(`order-${round}`, m)));
      requests[0]!.content = large;
      const accepted = await Promise.all(requests.map((r) => submitJob(core, r)));
      told.push(accepted.map((a) => ({ id: a.job.id, position: a.position })));
      ran.push(await runAll());
    }
    const mismatches = told.flatMap((round, r) =>
      round.filter((job) => ran[r]!.indexOf(job.id) + 1 !== job.position),
    ).length;
    console.log(
      `queue positions on ${provider}: ${mismatches} of ${told.flat().length} jobs started at another ` +
        `position than they were told (4 members at once, 3 rounds)`,
    );
    for (let r = 0; r < told.length; r++) {
      const byPosition = [...told[r]!].sort((a, b) => a.position! - b.position!).map((j) => j.id);
      expect(told[r]!.map((j) => j.position).sort()).toEqual([1, 2, 3, 4]);
      expect(ran[r]).toEqual(byPosition);
    }
  });

  it('has no ready time to tell before any worker has measured its speed', async () => {
    const fresh = await submit(core, 'eta-fresh', 'ann');
    expect(fresh.position).toBe(1);
    expect(fresh.etaMs).toBeNull();
    await requestCancel(core.db, fresh.job.id, 'test', new Date());
  });

  it('adds up the pixels × iterations of the jobs ahead at the workers’ measured speed', async () => {
    // One worker, one slot, measured at 0.5 megapixel-iterations per second.
    const speed = 0.5;
    await workerAlive(core.db, { id: 'w-eta', host: 'test', concurrency: 1, speed }, new Date());
    const shortJob = { size: 100, iterations: 10 }; // 100×75 px (the photo is 4:3): 0.075 Mpx·it, 150 ms
    const longJob = { size: 200, iterations: 300 }; // 200×150 px: 9 Mpx·it, 18 s
    const shorts = [];
    for (let i = 0; i < 3; i++) shorts.push(await submit(core, 'eta', `s${i}`, shortJob));
    const long = await submit(core, 'eta', 'long', longJob);
    const lastShort = await submit(core, 'eta', 's3', shortJob);

    const ms = (pixels: number, iterations: number) => ((pixels * iterations) / 1e6 / speed) * 1000;
    const short = ms(100 * 75, 10);
    expect(shorts.map((s) => s.etaMs)).toEqual([1, 2, 3].map((n) => Math.round(n * short)));
    expect(long.etaMs).toBe(Math.round(3 * short + ms(200 * 150, 300)));
    expect(lastShort.etaMs).toBe(Math.round(4 * short + ms(200 * 150, 300)));
    // The same from /stylize status, while the jobs wait.
    const server = { platform: 'discord' as const, id: 'eta' };
    expect((await jobStatus(core, server, long.job.id)).etaMs).toBe(long.etaMs);

    // A second slot: the long job no longer holds up the last short one.
    await workerAlive(core.db, { id: 'w-eta-2', host: 'test', concurrency: 1, speed }, new Date());
    expect((await jobStatus(core, server, lastShort.job.id)).etaMs).toBe(Math.round(3 * short));
    await runAll();
  });
});
