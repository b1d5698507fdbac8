import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { toJobView } from '../jobs/jobs.ts';
import type { VariationKind } from '../jobs/options.ts';
import { purgeExpired } from '../jobs/retention.ts';
import { claimJob } from '../jobs/scheduler.ts';
import type { ServerRef } from '../jobs/servers.ts';
import { probeImage } from '../lib/images/index.ts';
import { setLimits } from '../rules/admin.ts';
import { QuotaError } from '../rules/quotas.ts';
import { submitJob } from '../rules/submit.ts';
import { checkVariation, submitVariation, variationChoices } from '../rules/variations.ts';
import {
  createTestDatabase,
  finishJob,
  PAINTS_ANY,
  PROVIDERS,
  picture,
  request,
  type TestDatabase,
  testCore,
} from './job-system.ts';

const ADMIN = { userId: 'admin', isAdmin: true };

// Variations of a finished painting: its stored photo and painting with one option changed, queued like any job
// (same thread, same quotas), for its requester and admins only, and refused plainly once retention has deleted
// the images. On SQLite and on PostgreSQL.
describe.each(PROVIDERS)('variations on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, {
      QUOTA_SERVER_DAILY_JOBS: '100',
      QUOTA_MEMBER_DAILY_JOBS: '100',
      QUOTA_MEMBER_ACTIVE_JOBS: '100',
      QUOTA_MAX_SIZE: '48',
    });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  const server = (id: string): ServerRef => ({ platform: 'discord', id });
  const row = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
  const view = async (id: number) =>
    toJobView(await core.db.prisma.job.findUniqueOrThrow({ where: { id }, include: { server: true } }));
  const usage = (serverId: string, requesterId: string) =>
    core.db.prisma.usage.count({
      where: { server: { externalId: serverId }, requesterId, refundedAt: null },
    });

  /** Paints every queued job, as a worker would (two small pictures as each result). */
  async function paintQueued(): Promise<void> {
    for (;;) {
      const lease = await claimJob(core.db, 'test-worker', core.config.limits, PAINTS_ANY);
      if (!lease) return;
      await finishJob(core, lease);
    }
  }

  /** A finished painting of `requester` on `serverId`, asked for in thread `t-<serverId>`. */
  async function painting(serverId: string, requester: string, options = {}) {
    const { job } = await submitJob(core, {
      ...(await request(serverId, requester, { size: 24, iterations: 5, strength: 60, ...options })),
      threadId: `t-${serverId}`,
    });
    await paintQueued();
    return job.id;
  }

  const vary = (serverId: string, jobId: number, kind: VariationKind, userId = 'ann') =>
    submitVariation(core, {
      server: server(serverId),
      jobId,
      kind,
      actor: { userId, isAdmin: userId === ADMIN.userId },
    });

  it('changes one option of the stored painting, in its thread, counted as a job of who asked', async () => {
    const parentId = await painting('opt', 'ann');
    const parent = await row(parentId);
    const before = await usage('opt', 'ann');

    const more = await vary('opt', parentId, 'more-style');
    expect(more.job.options).toEqual({ ...JSON.parse(parent.options), strength: 85 });
    expect(more.job).toMatchObject({
      requesterId: 'ann',
      channelId: 'opt-channel',
      threadId: 't-opt',
      status: 'queued',
      variationOf: { jobId: parentId, kind: 'more-style' },
    });
    expect(more.position).toBe(1);
    // The stored images are reused, not stored again.
    expect(await row(more.job.id)).toMatchObject({
      contentRef: parent.contentRef,
      styleRefs: parent.styleRefs,
      startRef: null,
      pixels: parent.pixels,
    });

    expect((await vary('opt', parentId, 'less-style')).job.options.strength).toBe(35);
    const colours = await vary('opt', parentId, 'colours');
    expect(colours.job.options).toMatchObject({ strength: 60, preserveColors: true, size: 24 });

    // Larger: 1.5 times the size, from the painting itself; its pixels are the photo's at that size.
    // The photo was kept at the size a Larger painting has (24 × 1.5), so that one paints it with its own detail.
    const kept = await probeImage((await core.images.get(parent.contentRef))!.bytes);
    expect([kept.width, kept.height]).toEqual([36, 27]);
    const larger = await vary('opt', parentId, 'larger');
    expect(larger.job.options).toMatchObject({ size: 36, strength: 60, iterations: 5 });
    expect(await row(larger.job.id)).toMatchObject({ startRef: parent.resultRef, pixels: 36 * 27 });
    expect(await usage('opt', 'ann')).toBe(before + 4);

    // A variation of a variation: the strength stops at 100, and going further is refused in plain words.
    await paintQueued();
    const most = await vary('opt', more.job.id, 'more-style');
    expect(most.job.options.strength).toBe(100);
    await paintQueued();
    await expect(vary('opt', most.job.id, 'more-style')).rejects.toThrow(
      `Painting #${most.job.id} already has the strongest style (strength 100).`,
    );
    expect(await variationChoices(core, await view(most.job.id))).toEqual([
      'less-style',
      'colours',
      'larger',
    ]);
  });

  it('is open to the requester and admins only, on the painting’s server, once it has finished', async () => {
    const parentId = await painting('who', 'ann');
    const refusal = await vary('who', parentId, 'colours', 'bob').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(UserError);
    expect((refusal as UserError).code).toBe('forbidden');
    expect((refusal as UserError).message).toBe(
      `Only the member who asked for painting #${parentId}, or an admin, can ask for a variation of it.`,
    );
    await expect(vary('elsewhere', parentId, 'colours')).rejects.toThrow(
      `There is no job ${parentId} on this server.`,
    );
    // Any number a forged id may carry: beyond PostgreSQL's integer ids too.
    await expect(vary('who', 2 ** 31, 'colours')).rejects.toThrow(
      `There is no job ${2 ** 31} on this server.`,
    );
    const byAdmin = await vary('who', parentId, 'colours', ADMIN.userId);
    expect(byAdmin.job.requesterId).toBe(ADMIN.userId);
    // The admin's variation is not finished yet: there is nothing to vary.
    await expect(vary('who', byAdmin.job.id, 'colours', ADMIN.userId)).rejects.toThrow(
      `Painting #${byAdmin.job.id} did not finish, so there is nothing to vary.`,
    );
    await paintQueued();
  });

  it('offers and paints Larger only while the server allows a larger size', async () => {
    const small = await painting('big', 'ann', { size: 32 });
    // 48 is the operator's largest: 32 × 1.5.
    expect(await variationChoices(core, await view(small))).toEqual([
      'more-style',
      'less-style',
      'colours',
      'larger',
    ]);
    await setLimits(core, server('big'), { maxSize: 40 }, ADMIN);
    // Capped at the server's largest.
    const capped = await vary('big', small, 'larger');
    expect(capped.job.options.size).toBe(40);
    await paintQueued();
    expect(await variationChoices(core, await view(capped.job.id))).toEqual([
      'more-style',
      'less-style',
      'colours',
    ]);
    const refusal = await vary('big', capped.job.id, 'larger').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(QuotaError);
    expect((refusal as QuotaError).limit).toBe('maxSize');
    expect((refusal as QuotaError).message).toBe(
      `Painting #${capped.job.id} is 40 px, and the largest painting this server allows is 40 px, so I can’t paint it larger.`,
    );
  });

  it('counts against the same daily and queued-job limits', async () => {
    await setLimits(core, server('quota'), { memberDailyJobs: 3, memberActiveJobs: 1 }, ADMIN);
    const parentId = await painting('quota', 'ann');
    await vary('quota', parentId, 'less-style');
    // One queued already: the active limit refuses the next, before and at acceptance.
    const check = {
      server: server('quota'),
      jobId: parentId,
      kind: 'colours' as const,
      actor: { userId: 'ann', isAdmin: false },
    };
    await expect(checkVariation(core, check)).rejects.toMatchObject({ limit: 'memberActiveJobs' });
    await expect(vary('quota', parentId, 'colours')).rejects.toMatchObject({ limit: 'memberActiveJobs' });
    await paintQueued();
    await vary('quota', parentId, 'colours');
    await paintQueued();
    const daily = await vary('quota', parentId, 'larger').catch((e: unknown) => e);
    expect(daily).toBeInstanceOf(QuotaError);
    expect(daily).toMatchObject({
      limit: 'memberDailyJobs',
      message: 'You have had your 3 paintings for today.',
    });
    expect(await usage('quota', 'ann')).toBe(3);
  });

  it('says plainly when the images are gone, and retention keeps what a variation still uses', async () => {
    const parentId = await painting('gone', 'ann');
    const parent = await row(parentId);
    const larger = await vary('gone', parentId, 'larger');
    // The painting's final state has been posted; its retention has passed, the variation's job has not ended.
    await core.db.prisma.job.updateMany({ data: { eventPending: false } });
    const later = new Date(Date.now() + core.config.jobs.retentionMs + 60_000);
    await purgeExpired(core, later);
    expect((await row(parentId)).imagesPurgedAt).not.toBeNull();
    // The photo, the painting and the result the larger variation starts from are kept for it; the rest went.
    for (const ref of [
      parent.contentRef,
      parent.resultRef!,
      ...JSON.parse(parent.styleRefs).map((s: { ref: string }) => s.ref),
    ]) {
      expect(await core.images.get(ref)).toBeDefined();
    }
    expect(await core.images.get(parent.comparisonRef!)).toBeUndefined();

    const refusal = await vary('gone', parentId, 'more-style').catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(UserError);
    expect((refusal as UserError).code).toBe('gone');
    expect((refusal as UserError).message).toBe(
      `The photo and painting of #${parentId} are no longer kept (images are deleted 72 hours after a painting ` +
        'ends), so I can’t make a variation of it. Ask for a new painting with /stylize.',
    );

    // Once the variation's own retention has passed, nothing is left of either.
    await paintQueued();
    await core.db.prisma.job.updateMany({ data: { eventPending: false } });
    await purgeExpired(core, new Date(later.getTime() + core.config.jobs.retentionMs));
    expect(await core.images.get(parent.contentRef)).toBeUndefined();
    expect(await core.images.get(parent.resultRef!)).toBeUndefined();
    expect((await row(larger.job.id)).imagesPurgedAt).not.toBeNull();
  });
});

// A larger size has a smaller coarsest scale relative to the photo's short side: a long, narrow photo painted at
// one size may be too narrow at 1.5 times it. Larger is then neither offered nor queued, with what to do.
describe('a Larger variation of a long, narrow photo', () => {
  let db: TestDatabase;
  let core: Core;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db, { QUOTA_MAX_SIZE: '576' });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  it('is neither offered nor queued where the shape cannot be painted at the larger size', async () => {
    const panorama = await submitJob(core, {
      ...(await request('wide', 'ann', { size: 384 })),
      content: await picture(1, 5000, 100), // 50:1: paintable at 384 px with the shallow layers, not at 576
      threadId: 't-wide',
    });
    const lease = await claimJob(core.db, 'test-worker', core.config.limits, PAINTS_ANY);
    await finishJob(core, lease!);
    const done = toJobView(
      await core.db.prisma.job.findUniqueOrThrow({
        where: { id: panorama.job.id },
        include: { server: true },
      }),
    );
    expect(await variationChoices(core, done)).toEqual(['more-style', 'less-style', 'colours']);
    const refusal = await submitVariation(core, {
      server: { platform: 'discord', id: 'wide' },
      jobId: done.id,
      kind: 'larger',
      actor: { userId: 'ann', isAdmin: false },
    }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(UserError);
    expect((refusal as UserError).message).toMatch(
      /^Your photo is too long and narrow for me to paint .* at 576 px/,
    );
    expect(await core.db.prisma.job.count()).toBe(1);
  });
});
