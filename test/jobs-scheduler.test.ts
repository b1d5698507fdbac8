import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { completeJob, endJob, heartbeat, type Lease, requeueStale } from '../jobs/jobs.ts';
import { migrate, readMigrations } from '../jobs/migrate.ts';
import { queueOrder } from '../jobs/queue.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { jobStatus } from '../jobs/status.ts';
import { workerAlive } from '../jobs/workers.ts';
import {
  createTestDatabase,
  NO_DAILY_LIMITS,
  PAINTS_ANY,
  PROVIDERS,
  submit,
  type TestDatabase,
  testConfig,
  testCore,
} from './job-system.ts';

// The claim itself, without workers: its order is the round-robin the queue positions promise, and it
// respects the running limits. The same tests run on SQLite and on PostgreSQL.
describe.each(PROVIDERS)('scheduler on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  const generous = {
    ...NO_DAILY_LIMITS,
    QUOTA_MEMBER_RUNNING_JOBS: '1',
    QUOTA_SERVER_RUNNING_JOBS: '1',
  };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, generous);
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  const finish = (lease: Lease) =>
    completeJob(core.db, core.images, lease, { resultRef: 'r', comparisonRef: 'c' }, new Date());
  const serverOf = async (lease: Lease) =>
    (await core.db.prisma.job.findUniqueOrThrow({ where: { id: lease.jobId }, include: { server: true } }))
      .server.externalId;

  it('applies each migration once when several processes start on an empty database together', async () => {
    const fresh = await createTestDatabase(provider);
    try {
      const names = readMigrations(provider).map((m) => m.name);
      const config = testConfig(fresh).database;
      const applied = await Promise.all([1, 2, 3].map(() => migrate(config)));
      expect(applied.flat().sort()).toEqual(names);
      expect(await migrate(config)).toEqual([]);
      const other = await testCore(fresh);
      const rows = await other.db.prisma.$queryRawUnsafe<{ name: string }[]>(
        'SELECT "name" FROM "_migrations"',
      );
      await other.close();
      expect(rows.map((r) => r.name)).toEqual(names);
    } finally {
      await fresh.drop();
    }
  });

  it('serves servers round-robin, in exactly the order the queue positions predicted', async () => {
    await workerAlive(core.db, { id: 'rr-worker', host: 'test', concurrency: 1, speed: 0.1 }, new Date());
    const a: number[] = [];
    for (let i = 0; i < 6; i++) a.push((await submit(core, 'rr-a', `a${i}`)).job.id);
    const b1 = await submit(core, 'rr-b', 'b0');
    const b2 = await submit(core, 'rr-b', 'b1');
    expect(b1.position).toBe(2); // right after A's first, though A has 6 queued
    expect(b2.position).toBe(4);
    expect(b2.etaMs).toBeGreaterThan(b1.etaMs!);
    const predicted = (await queueOrder(core.db.prisma)).map((q) => q.id);
    expect((await jobStatus(core, { platform: 'discord', id: 'rr-a' }, a[1]!)).position).toBe(3);

    const claimed: number[] = [];
    for (;;) {
      const lease = await claimJob(core.db, 'test-worker', core.config.limits, PAINTS_ANY);
      if (!lease) break;
      claimed.push(lease.jobId);
      if (claimed.length === 1) {
        expect(await jobStatus(core, { platform: 'discord', id: 'rr-a' }, lease.jobId)).toMatchObject({
          job: { status: 'running' },
          position: null,
        });
      }
      await finish(lease);
    }
    expect(claimed).toEqual(predicted);
    expect(claimed).toEqual([a[0], b1.job.id, a[1], b2.job.id, a[2], a[3], a[4], a[5]]);
  });

  it('lets exactly one of two workers complete a job that was taken back from the first', async () => {
    const { job } = await submit(core, 'cas', 'zoe');
    const stale = (await claimJob(core.db, 'slow-worker', core.config.limits, PAINTS_ANY))!;
    expect(stale.jobId).toBe(job.id);
    // The first worker went silent: a sweep past the timeout puts the job back and another worker takes it.
    const later = new Date(Date.now() + core.config.jobs.staleAfterMs + 1000);
    expect(await requeueStale(core.db, core.config.jobs, later)).toEqual({ requeued: [job.id], failed: [] });
    const fresh = (await claimJob(core.db, 'fast-worker', core.config.limits, PAINTS_ANY))!;
    expect(fresh).toEqual({ jobId: job.id, workerId: 'fast-worker', attempt: 2 });

    expect(await heartbeat(core.db, stale, new Date())).toBe('lost');
    expect(await finish(stale)).toBe(false);
    expect(await finish(fresh)).toBe(true);
    expect(await finish(fresh)).toBe(false);
    expect(await endJob(core.db, stale, { status: 'failed', error: 'late' }, new Date())).toBe(false);
    const row = await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row).toMatchObject({ status: 'succeeded', workerId: 'fast-worker', attempts: 2, error: null });
  });

  it('fails a job that went stale on its last attempt, with a message, and refunds it', async () => {
    const { job } = await submit(core, 'attempts', 'yan');
    let now = Date.now();
    for (let attempt = 1; attempt <= core.config.jobs.maxAttempts; attempt++) {
      const lease = (await claimJob(core.db, `w${attempt}`, core.config.limits, PAINTS_ANY))!;
      expect(lease).toMatchObject({ jobId: job.id, attempt });
      now += core.config.jobs.staleAfterMs + 1000;
      await requeueStale(core.db, core.config.jobs, new Date(now));
    }
    const row = await core.db.prisma.job.findUniqueOrThrow({
      where: { id: job.id },
      include: { usage: true },
    });
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/stopped 3 times/);
    expect(row.usage?.refundedAt).not.toBeNull();
  });

  it('skips a server at its running limit and a member at theirs, and takes their jobs once one ends', async () => {
    // Server running limit 1 (the default here): c0's second job must wait although it is the oldest.
    const c0 = await submit(core, 'lim-c', 'c0');
    const c1 = await submit(core, 'lim-c', 'c1');
    const d0 = await submit(core, 'lim-d', 'd0');
    const first = (await claimJob(core.db, 'w1', core.config.limits, PAINTS_ANY))!;
    const second = (await claimJob(core.db, 'w2', core.config.limits, PAINTS_ANY))!;
    expect([first.jobId, second.jobId]).toEqual([c0.job.id, d0.job.id]);
    expect(await claimJob(core.db, 'w3', core.config.limits, PAINTS_ANY)).toBeUndefined();
    await finish(first);
    const third = (await claimJob(core.db, 'w3', core.config.limits, PAINTS_ANY))!;
    expect(third.jobId).toBe(c1.job.id);
    await finish(second);
    await finish(third);

    // A member at their running limit (1) waits even where the server has room (limit 3 here).
    await core.db.prisma.server.update({
      where: { platform_externalId: { platform: 'discord', externalId: 'lim-c' } },
      data: { serverRunningJobs: 3 },
    });
    const m1 = await submit(core, 'lim-c', 'member');
    const m2 = await submit(core, 'lim-c', 'member');
    const other = await submit(core, 'lim-c', 'other');
    const x = (await claimJob(core.db, 'w1', core.config.limits, PAINTS_ANY))!;
    const y = (await claimJob(core.db, 'w2', core.config.limits, PAINTS_ANY))!;
    expect([x.jobId, y.jobId]).toEqual([m1.job.id, other.job.id]);
    expect(await claimJob(core.db, 'w3', core.config.limits, PAINTS_ANY)).toBeUndefined();
    await finish(x);
    const z = (await claimJob(core.db, 'w3', core.config.limits, PAINTS_ANY))!;
    expect(z.jobId).toBe(m2.job.id);
    expect(await serverOf(z)).toBe('lim-c');
    await finish(y);
    await finish(z);
  });
});
