import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { endJob } from '../jobs/jobs.ts';
import { claimJob } from '../jobs/scheduler.ts';
import type { ServerRef } from '../jobs/servers.ts';
import { setLimits, showLimits } from '../rules/admin.ts';
import { cancelJob } from '../rules/cancel.ts';
import { type LimitName, nextUtcMidnight, QuotaError } from '../rules/quotas.ts';
import {
  createTestDatabase,
  PAINTS_ANY,
  PROVIDERS,
  submit,
  type TestDatabase,
  testCore,
} from './job-system.ts';

const ADMIN = { userId: 'admin', isAdmin: true };

// Each limit lets exactly N through and refuses the next with its name and reset time; failed and cancelled
// jobs give their usage back. On SQLite and on PostgreSQL.
describe.each(PROVIDERS)('quotas on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, {
      QUOTA_SERVER_DAILY_JOBS: '100',
      QUOTA_MEMBER_DAILY_JOBS: '100',
      QUOTA_MEMBER_ACTIVE_JOBS: '100',
    });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  const server = (id: string): ServerRef => ({ platform: 'discord', id });

  /** The refusal a submission got, or a failure if it was accepted. */
  async function refusal(promise: Promise<unknown>): Promise<QuotaError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QuotaError);
    return error as QuotaError;
  }

  function expectRefusal(error: QuotaError, limit: LimitName, max: number, daily: boolean) {
    expect(error.limit).toBe(limit);
    expect(error.max).toBe(max);
    if (daily) {
      expect(error.resetsAt?.toISOString()).toBe(nextUtcMidnight(new Date()).toISOString());
      expect(error.resetsAt!.getUTCHours()).toBe(0);
    } else {
      expect(error.resetsAt).toBeNull();
    }
    expect(error.message.length).toBeGreaterThan(10);
  }

  it('server per day: N accepted from different members, N+1 refused until UTC midnight', async () => {
    await setLimits(core, server('day'), { serverDailyJobs: 3 }, ADMIN);
    for (let i = 0; i < 3; i++) await submit(core, 'day', `m${i}`);
    expectRefusal(await refusal(submit(core, 'day', 'm9')), 'serverDailyJobs', 3, true);
  });

  it('member per day: N accepted, N+1 refused; other members are not affected', async () => {
    await setLimits(core, server('member-day'), { memberDailyJobs: 2 }, ADMIN);
    await submit(core, 'member-day', 'alice');
    await submit(core, 'member-day', 'alice');
    expectRefusal(await refusal(submit(core, 'member-day', 'alice')), 'memberDailyJobs', 2, true);
    await submit(core, 'member-day', 'bob');
  });

  it('concurrent jobs per member: N queued, N+1 refused, accepted again once one is cancelled', async () => {
    await setLimits(core, server('active'), { memberActiveJobs: 2 }, ADMIN);
    const first = await submit(core, 'active', 'carol');
    await submit(core, 'active', 'carol');
    expectRefusal(await refusal(submit(core, 'active', 'carol')), 'memberActiveJobs', 2, false);
    expect(await cancelJob(core, server('active'), first.job.id, { userId: 'carol', isAdmin: false })).toBe(
      'cancelled',
    );
    await submit(core, 'active', 'carol');
  });

  it('max output size and max iterations: the limit itself is allowed, one more is refused', async () => {
    await setLimits(core, server('sizes'), { maxSize: 64, maxIterations: 10 }, ADMIN);
    await submit(core, 'sizes', 'dan', { size: 64, iterations: 10 });
    expectRefusal(await refusal(submit(core, 'sizes', 'dan', { size: 65 })), 'maxSize', 64, false);
    expectRefusal(
      await refusal(submit(core, 'sizes', 'dan', { iterations: 11 })),
      'maxIterations',
      10,
      false,
    );
  });

  it('refunds a job that failed and one that was cancelled, queued or running', async () => {
    await setLimits(core, server('refund'), { memberDailyJobs: 1, serverRunningJobs: 5 }, ADMIN);
    const usage = async (jobId: number) =>
      core.db.prisma.usage.findUniqueOrThrow({ where: { jobId } }).then((u) => u.refundedAt);

    // Failure: the worker's end of a job (same call as worker/loop.ts makes).
    const failing = await submit(core, 'refund', 'erin');
    expectRefusal(await refusal(submit(core, 'refund', 'erin')), 'memberDailyJobs', 1, true);
    const lease = await claimUntil(failing.job.id);
    expect(await endJob(core.db, lease, { status: 'failed', error: 'boom' }, new Date())).toBe(true);
    expect(await usage(failing.job.id)).not.toBeNull();

    // Cancelled while queued, by an admin.
    const queued = await submit(core, 'refund', 'erin');
    expect(await cancelJob(core, server('refund'), queued.job.id, ADMIN)).toBe('cancelled');
    expect(await usage(queued.job.id)).not.toBeNull();

    // Cancelled while running: the flag is set, the usage comes back when the worker ends the job.
    const running = await submit(core, 'refund', 'erin');
    const runningLease = await claimUntil(running.job.id);
    expect(await cancelJob(core, server('refund'), running.job.id, { userId: 'erin', isAdmin: false })).toBe(
      'stopping',
    );
    expect(await usage(running.job.id)).toBeNull();
    expect(await endJob(core.db, runningLease, { status: 'cancelled' }, new Date())).toBe(true);
    expect(await usage(running.job.id)).not.toBeNull();

    // Three accepted, all refunded: the member's one job a day is still there.
    await submit(core, 'refund', 'erin');
    expectRefusal(await refusal(submit(core, 'refund', 'erin')), 'memberDailyJobs', 1, true);
  });

  it('admin operations: show and reset limits, refuse members who are not admins', async () => {
    const report = await setLimits(core, server('admin'), { serverDailyJobs: 7, maxSize: 100 }, ADMIN);
    const byName = new Map(report.limits.map((l) => [l.name, l]));
    expect(byName.get('serverDailyJobs')).toEqual({ name: 'serverDailyJobs', value: 7, isDefault: false });
    expect(byName.get('memberDailyJobs')).toEqual({ name: 'memberDailyJobs', value: 100, isDefault: true });
    const reset = await setLimits(core, server('admin'), { serverDailyJobs: null }, ADMIN);
    expect(reset.limits.find((l) => l.name === 'serverDailyJobs')).toMatchObject({
      value: 100,
      isDefault: true,
    });
    await expect(showLimits(core, server('admin'), { userId: 'x', isAdmin: false })).rejects.toBeInstanceOf(
      UserError,
    );
    await expect(setLimits(core, server('admin'), { maxSize: -1 }, ADMIN)).rejects.toThrow(/max_size/);
    const job = await submit(core, 'admin', 'owner');
    await expect(
      cancelJob(core, server('admin'), job.job.id, { userId: 'someone-else', isAdmin: false }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  /** Claims jobs (finishing others' as failed) until the given one is running. */
  async function claimUntil(jobId: number) {
    for (;;) {
      const lease = await claimJob(core.db, 'test-worker', core.config.limits, PAINTS_ANY);
      if (!lease) throw new Error(`job ${jobId} was never claimed`);
      if (lease.jobId === jobId) return lease;
      await endJob(core.db, lease, { status: 'failed', error: 'not this one' }, new Date());
    }
  }
});
