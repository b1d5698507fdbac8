import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { completeJob, type Lease, requestCancel } from '../jobs/jobs.ts';
import {
  type Child,
  createTestDatabase,
  harness,
  NO_DAILY_LIMITS,
  PROVIDERS,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
} from './job-system.ts';

// Three claiming processes (separate connections, as real workers have) claim at the same moment, round after
// round: the running limits must hold in every round, not just on average.
describe.each(PROVIDERS)('running limits under concurrent claims on %s', (provider) => {
  const ROUNDS = 20;
  const CLAIMERS = 3;
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];
  let claimers: ReturnType<typeof harness>[];
  const env = {
    ...NO_DAILY_LIMITS,
    QUOTA_SERVER_RUNNING_JOBS: '2',
    QUOTA_MEMBER_RUNNING_JOBS: '1',
    LOG_LEVEL: 'warn',
  };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, env);
    for (let i = 0; i < CLAIMERS; i++) {
      children.push(spawnProcess('test/jobs/claimer.ts', testEnv(db, env), { stdin: 'pipe' }));
    }
    claimers = children.map(harness);
    await Promise.all(claimers.map((c) => c.next('a claimer to start')));
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stopProcess(c, 'SIGKILL')));
    await core?.close();
    await db?.drop();
  });

  /** One round: three queued jobs, three claims at once; returns how many ran at once, then ends them. */
  async function round(server: string, requesters: string[]): Promise<number> {
    const ids: number[] = [];
    for (const requester of requesters) ids.push((await submit(core, server, requester)).job.id);
    for (const claimer of claimers) claimer.send('claim');
    const replies = await Promise.all(claimers.map((c) => c.next('a claim')));
    expect(replies.filter((r) => r.error)).toEqual([]);
    const running = replies.map((r) => r.lease).filter((l): l is Lease => Boolean(l));
    for (const lease of running) {
      await completeJob(core.db, core.images, lease, { resultRef: 'r', comparisonRef: 'c' }, new Date());
    }
    for (const id of ids) await requestCancel(core.db, id, 'test', new Date());
    return running.length;
  }

  it(`a member runs at most 1 and a server at most 2 jobs in each of ${ROUNDS} rounds`, async () => {
    const member: number[] = [];
    const server: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      member.push(await round(`member-${r}`, ['solo', 'solo', 'solo']));
      server.push(await round(`server-${r}`, ['a', 'b', 'c']));
    }
    const memberViolations = member.filter((n) => n > 1).length;
    const serverViolations = server.filter((n) => n > 2).length;
    console.log(
      `running limits on ${provider}, ${ROUNDS} rounds of ${CLAIMERS} concurrent claims: ` +
        `member limit exceeded in ${memberViolations}, server limit in ${serverViolations}`,
    );
    expect({ memberViolations, serverViolations }).toEqual({ memberViolations: 0, serverViolations: 0 });
    // And the limits are used in full: a claimer that lost the race for the last slot takes nothing else.
    expect(member).toEqual(member.map(() => 1));
    expect(server).toEqual(server.map(() => 2));
  });
});
