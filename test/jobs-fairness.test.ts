import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import {
  type Child,
  createTestDatabase,
  NO_DAILY_LIMITS,
  PROVIDERS,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// A big server's backlog must not starve a small one: server A submits 50 jobs, then server B submits 2, all
// while a real worker process paints them (16 px, 1 iteration: the worker's real code path, made quick).
// B's first job must start before the third job A starts after B asked.
describe.each(PROVIDERS)('fairness on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  let worker: Child | undefined;
  const env = {
    ...NO_DAILY_LIMITS,
  };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, env);
  });
  afterAll(async () => {
    if (worker) await stopProcess(worker);
    await core?.close();
    await db?.drop();
  });

  it("serves the small server's jobs between the big server's", async () => {
    worker = spawnProcess('worker/main.ts', testEnv(db, env));
    await waitFor('the worker', async () => (await core.db.prisma.worker.count()) > 0, 60_000);

    for (let i = 0; i < 50; i++) await submit(core, 'big', `a${i % 5}`);
    const small = [await submit(core, 'small', 'b0'), await submit(core, 'small', 'b1')];

    await waitFor(
      'all 52 jobs',
      async () => (await core.db.prisma.job.count({ where: { status: 'succeeded' } })) === 52,
      120_000,
    );
    const jobs = await core.db.prisma.job.findMany({
      include: { server: true },
      orderBy: { startedAt: 'asc' },
    });
    expect(jobs.every((j) => j.attempts === 1)).toBe(true);
    const claims = jobs.map((j) => ({
      id: j.id,
      server: j.server.externalId,
      startedAt: j.startedAt!.getTime(),
    }));

    const waits = small.map(({ job }) => {
      const start = claims.findIndex((c) => c.id === job.id);
      const asked = job.createdAt.getTime();
      // Claims of the big server between this job's submission and its start.
      const bigBefore = claims
        .slice(0, start)
        .filter((c) => c.server === 'big' && c.startedAt >= asked).length;
      return { claims: bigBefore, ms: claims[start]!.startedAt - asked };
    });
    // The big server still had a backlog when the small one asked, or this would prove nothing.
    const bigAfter = claims.filter(
      (c) => c.server === 'big' && c.startedAt >= small[0]!.job.createdAt.getTime(),
    );
    expect(bigAfter.length).toBeGreaterThan(10);
    // B's first job starts before the third job A starts after B submitted: at most two A jobs go first.
    expect(waits[0]!.claims).toBeLessThanOrEqual(2);
    expect(waits[1]!.claims).toBeLessThanOrEqual(3);
    const worst = {
      claims: Math.max(...waits.map((w) => w.claims)),
      ms: Math.max(...waits.map((w) => w.ms)),
    };
    console.log(
      `fairness on ${provider}: the small server's worst wait was ${worst.claims} claims of the big server, ` +
        `${worst.ms} ms (big server's backlog: 50 jobs)`,
    );
  });
});
