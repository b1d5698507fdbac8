import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetsMessage } from '../discord/commands/presets.ts';
import { progressEnded } from '../discord/job-messages.ts';
import type { Core } from '../jobs/core.ts';
import type { JobView } from '../jobs/jobs.ts';
import { requeueStale } from '../jobs/jobs.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { setLimits } from '../rules/admin.ts';
import { QuotaError } from '../rules/quotas.ts';
import { limitsText } from '../slack/listeners/admin-command.ts';
import { createTestDatabase, PAINTS_ANY, submit, type TestDatabase, testCore } from './job-system.ts';

const ADMIN = { userId: 'admin', isAdmin: true };

// Counts in what members and admins read agree with their nouns: "1 time", "1 painting", "2 paintings".
describe('counts in sentences', () => {
  let db: TestDatabase;
  let core: Core;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db, { MAX_ATTEMPTS: '1' });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => (error instanceof QuotaError ? error.message : String(error)),
    );

  it('a job that stopped once', async () => {
    const { job } = await submit(core, 'words', 'ann');
    await claimJob(core.db, 'gone', core.config.limits, PAINTS_ANY);
    await requeueStale(
      core.db,
      core.config.jobs,
      new Date(Date.now() + core.config.jobs.staleAfterMs + 1000),
    );
    const row = await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.error).toMatch(/^The painting stopped 1 time because/);
  });

  it('limits of one', async () => {
    const server = { platform: 'discord' as const, id: 'one' };
    await setLimits(core, server, { memberDailyJobs: 1, maxIterations: 1 }, ADMIN);
    await submit(core, 'one', 'ben');
    expect(await refusal(submit(core, 'one', 'ben'))).toBe('You have had your 1 painting for today.');
    expect(await refusal(submit(core, 'one', 'cid', { iterations: 2 }))).toBe(
      'This server allows at most 1 iteration; ask for 1 or fewer.',
    );
    await setLimits(core, server, { memberDailyJobs: null, serverDailyJobs: 1 }, ADMIN);
    expect(await refusal(submit(core, 'one', 'cid'))).toMatch(
      /^This server has had its 1 painting for today/,
    );
    await setLimits(core, { platform: 'discord', id: 'active' }, { memberActiveJobs: 1 }, ADMIN);
    await submit(core, 'active', 'dee');
    expect(await refusal(submit(core, 'active', 'dee'))).toMatch(/^You already have 1 painting queued/);
  });

  it('the chat adapters’ counts', async () => {
    const job = { id: 1, styles: [{ name: 'starry_night', weight: 1 }] } as JobView;
    const one = { ...job, options: { size: 64, iterations: 1, strength: 50 } } as JobView;
    expect(progressEnded(one, 'done').content).toContain('(64 px, 1 iteration, strength 50)');
    const many = { ...job, options: { size: 64, iterations: 2, strength: 50 } } as JobView;
    expect(progressEnded(many, 'done').content).toContain('(64 px, 2 iterations, strength 50)');
    expect(presetsMessage(['mine'], 1).content).toMatch(/^\*\*1 preset painting\*\*/);
    expect(presetsMessage(['a', 'b'], 2).content).toMatch(/^\*\*2 preset paintings\*\*/);
    expect(limitsText({ limits: [], usedToday: 1, dailyResetsAt: new Date() })).toContain(
      '(1 painting today;',
    );
  });
});
