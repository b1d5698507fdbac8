import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyState } from '../chat/history-state.ts';
import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { memberAllowance } from '../rules/allowance.ts';
import { deletePainting } from '../rules/deletion.ts';
import { memberHistory } from '../rules/history.ts';
import {
  createTestDatabase,
  finishJob,
  PAINTS_ANY,
  PROVIDERS,
  recordingEvents,
  submit,
  type TestDatabase,
  testCore,
} from './job-system.ts';

// A member deleting their painting (or an admin, anyone's): the images go, the job stays in the history as
// deleted; and what a member may still ask for today, for the help answer.
describe.each(PROVIDERS)('deleting a painting on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  let notifier: Notifier;
  const guild = { platform: 'discord' as const, id: 'del' };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, {
      QUOTA_SERVER_DAILY_JOBS: '100',
      QUOTA_MEMBER_DAILY_JOBS: '5',
      QUOTA_MEMBER_ACTIVE_JOBS: '10',
    });
    notifier = startNotifier(core, { discord: recordingEvents().events });
  });
  afterAll(async () => {
    await notifier?.stop();
    await core?.close();
    await db?.drop();
  });

  /** A finished painting of `requester`'s, its end passed on (as the Delete button's painting is). */
  async function painted(requester: string, server = 'del'): Promise<number> {
    const { job } = await submit(core, server, requester);
    const lease = await claimJob(core.db, 'worker', core.config.limits, PAINTS_ANY);
    expect(lease?.jobId).toBe(job.id);
    await finishJob(core, lease!);
    await notifier.drain();
    return job.id;
  }

  const row = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof UserError ? error.code : error),
    );

  it('deletes the images of the requester’s painting and keeps the job in the history as deleted', async () => {
    const id = await painted('ann');
    const before = await row(id);
    const refs = [before.contentRef, before.resultRef!, before.comparisonRef!];
    for (const ref of refs) expect(await core.images.get(ref)).toBeDefined();

    const { job, deleted } = await deletePainting(core, guild, id, { userId: 'ann', isAdmin: false });
    expect(deleted).toBe(true);
    expect(job.deletedAt).toBeInstanceOf(Date);
    for (const ref of refs) expect(await core.images.get(ref)).toBeUndefined();
    const after = await row(id);
    expect(after).toMatchObject({
      status: 'succeeded',
      deletedBy: 'ann',
      resultRef: null,
      comparisonRef: null,
    });
    expect(after.imagesPurgedAt).not.toBeNull();
    // Deleting does not give the day's painting back.
    expect(await core.db.prisma.usage.findUniqueOrThrow({ where: { jobId: id } })).toMatchObject({
      refundedAt: null,
    });

    const [entry] = await memberHistory(core, guild, 'ann', 1);
    expect(entry).toMatchObject({ imagesKept: false, resultKept: false });
    expect(historyState(entry!, () => 'today')).toBe('deleted today');

    // A second press (or an admin's meanwhile) changes nothing.
    const again = await deletePainting(core, guild, id, { userId: 'admin', isAdmin: true });
    expect(again.deleted).toBe(false);
    expect((await row(id)).deletedBy).toBe('ann');
  });

  it('refuses another member, lets an admin delete anyone’s, and never a painting still to come', async () => {
    const id = await painted('bea');
    expect(await refusal(deletePainting(core, guild, id, { userId: 'cal', isAdmin: false }))).toBe(
      'forbidden',
    );
    expect((await row(id)).deletedAt).toBeNull();
    expect((await deletePainting(core, guild, id, { userId: 'mod', isAdmin: true })).deleted).toBe(true);
    expect((await row(id)).deletedBy).toBe('mod');

    const queued = (await submit(core, 'del', 'bea')).job.id;
    expect(await refusal(deletePainting(core, guild, queued, { userId: 'bea', isAdmin: false }))).toBe(
      'not-cancellable',
    );
    expect(
      await refusal(
        deletePainting(core, { platform: 'slack', id: 'del' }, id, { userId: 'bea', isAdmin: true }),
      ),
    ).toBe('not-found');
  });

  it('tells a member what is left of today’s paintings', async () => {
    // In a server of its own: the other tests leave a job queued in theirs.
    const own = { platform: 'discord' as const, id: 'del-own' };
    expect(await memberAllowance(core, own, 'dan')).toMatchObject({
      memberDailyJobs: 5,
      usedToday: 0,
      leftToday: 5,
      active: 0,
    });
    await painted('dan', own.id);
    await submit(core, own.id, 'dan');
    const allowance = await memberAllowance(core, own, 'dan', { size: 24 });
    expect(allowance).toMatchObject({ usedToday: 2, leftToday: 3, active: 1, memberActiveJobs: 10 });
    expect(allowance.maxSize).toBe(core.config.limits.maxSize);
    expect(allowance.resetsAt.getTime()).toBeGreaterThan(Date.now());
    // A server never seen: the operator's limits, nothing recorded.
    const servers = await core.db.prisma.server.count();
    expect((await memberAllowance(core, { platform: 'slack', id: 'T0NEW' }, 'dan')).leftToday).toBe(5);
    expect(await core.db.prisma.server.count()).toBe(servers);
  });
});
