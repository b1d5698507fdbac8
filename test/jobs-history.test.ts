import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { requestCancel } from '../jobs/jobs.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import { purgeExpired } from '../jobs/retention.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { HISTORY_LENGTH, memberHistory } from '../rules/history.ts';
import { submitJob } from '../rules/submit.ts';
import {
  createTestDatabase,
  finishJob,
  NO_DAILY_LIMITS,
  PAINTS_ANY,
  PROVIDERS,
  recordingEvents,
  request,
  submit,
  type TestDatabase,
  testCore,
} from './job-system.ts';

// "/stylize history": a member's own latest paintings in one server, newest first, and whether the bot still
// keeps their images.
describe.each(PROVIDERS)('a member’s history on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  let notifier: Notifier;
  const guild = { platform: 'discord' as const, id: 'hist' };

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, NO_DAILY_LIMITS);
    notifier = startNotifier(core, { discord: recordingEvents().events });
  });
  afterAll(async () => {
    await notifier?.stop();
    await core?.close();
    await db?.drop();
  });

  /** Submits a job for ann in `hist` and, when asked, paints it (it is then the only queued job). */
  async function paint(): Promise<number> {
    const { job } = await submit(core, 'hist', 'ann');
    const lease = await claimJob(core.db, 'worker', core.config.limits, PAINTS_ANY);
    expect(lease?.jobId).toBe(job.id);
    await finishJob(core, lease!);
    return job.id;
  }

  it('lists only the member’s own jobs in this server, newest first, with what is still kept', async () => {
    const purged = await paint();
    await notifier.drain();
    await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 1000));
    const kept = await paint();
    const cancelled = (await submit(core, 'hist', 'ann')).job.id;
    await requestCancel(core.db, cancelled, 'ann', new Date());
    const queued = (await submit(core, 'hist', 'ann')).job.id;
    // Not ann's in this server: another member's, ann's in another guild, and in a Slack workspace of that id.
    await submit(core, 'hist', 'bob');
    await submit(core, 'elsewhere', 'ann');
    await submitJob(core, { ...(await request('hist', 'ann')), server: { platform: 'slack', id: 'hist' } });

    const history = await memberHistory(core, guild, 'ann');
    expect(history.map((e) => e.job.id)).toEqual([queued, cancelled, kept, purged]);
    expect(history.map((e) => e.job.status)).toEqual(['queued', 'cancelled', 'succeeded', 'succeeded']);
    expect(history.map((e) => [e.imagesKept, e.resultKept])).toEqual([
      [true, false],
      [true, false],
      [true, true],
      [false, false],
    ]);
    const [, , done] = history;
    expect(done!.job).toMatchObject({
      server: 'hist',
      platform: 'discord',
      channelId: 'hist-channel',
      requesterId: 'ann',
      styles: [{ name: 'test painting', weight: 1 }],
    });
    expect(done!.job.finishedAt!.getTime()).toBeGreaterThanOrEqual(done!.job.createdAt.getTime());
    expect(history[0]!.job.finishedAt).toBeNull();

    expect((await memberHistory(core, guild, 'bob')).map((e) => e.job.requesterId)).toEqual(['bob']);
    expect(await memberHistory(core, guild, 'cid')).toEqual([]);
  });

  it('lists at most the number asked for, ten by default: the latest', async () => {
    const ids: number[] = [];
    for (let i = 0; i < HISTORY_LENGTH + 2; i++) ids.push((await submit(core, 'many', 'dee')).job.id);
    const server = { platform: 'discord' as const, id: 'many' };
    const newest = [...ids].reverse();
    expect((await memberHistory(core, server, 'dee')).map((e) => e.job.id)).toEqual(
      newest.slice(0, HISTORY_LENGTH),
    );
    expect((await memberHistory(core, server, 'dee', 3)).map((e) => e.job.id)).toEqual(newest.slice(0, 3));
  });

  it('answers for a server never seen without recording it', async () => {
    const servers = await core.db.prisma.server.count();
    expect(await memberHistory(core, { platform: 'slack', id: 'T0NEW' }, 'ann')).toEqual([]);
    expect(await core.db.prisma.server.count()).toBe(servers);
  });
});
