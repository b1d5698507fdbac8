import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAINTING_UNAVAILABLE_TEXT } from '../jobs/capacity.ts';
import type { Core } from '../jobs/core.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { type Capability, workerAlive } from '../jobs/workers.ts';
import { MemberFacingError, memberReply } from '../lib/member-error.ts';
import { setLimits, showLimits } from '../rules/admin.ts';
import { checkRequest } from '../rules/check-request.ts';
import { QuotaError } from '../rules/quotas.ts';
import { submitJob } from '../rules/submit.ts';
import {
  createTestDatabase,
  NO_DAILY_LIMITS,
  PROVIDERS,
  request,
  submit,
  type TestDatabase,
  testCore,
} from './job-system.ts';

const ADMIN = { userId: 'admin', isAdmin: true };

/** A plain image of any shape, cheap to make and to encode. */
const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#406080' } })
    .png()
    .toBuffer();

const capability = (over: Partial<Capability>): Capability => ({
  sizes: { paper: 4096, shallow: 4096 },
  auto: 'paper',
  backend: 'onnx',
  device: 'cpu (test)',
  problem: null,
  ...over,
});

// What workers can paint bounds what is claimed and what is accepted. The same tests on SQLite and PostgreSQL.
describe.each(PROVIDERS)('what workers can paint, on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, {
      ...NO_DAILY_LIMITS,
      QUOTA_MAX_SIZE: '512',
      QUOTA_SERVER_RUNNING_JOBS: '10',
      QUOTA_MEMBER_RUNNING_JOBS: '10',
    });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  /** Only these workers are alive: every other worker row is dropped. */
  async function alive(...workers: [string, Capability | undefined][]) {
    await core.db.prisma.worker.deleteMany();
    for (const [id, declared] of workers) {
      await workerAlive(
        core.db,
        { id, host: 'test', concurrency: 1, speed: null, capability: declared },
        new Date(),
      );
    }
  }

  it('a worker claims only jobs of layers its weights hold and sizes its memory fits', async () => {
    await alive();
    const ids = {
      auto: (await submit(core, 'claims', 'a', { layers: 'auto', size: 64 })).job.id,
      paper: (await submit(core, 'claims', 'b', { layers: 'paper', size: 64 })).job.id,
      shallow: (await submit(core, 'claims', 'c', { layers: 'shallow', size: 64 })).job.id,
      large: (await submit(core, 'claims', 'd', { layers: 'shallow', size: 300 })).job.id,
    };
    const row = await core.db.prisma.job.findUniqueOrThrow({ where: { id: ids.large } });
    expect({ layers: row.layers, size: row.size }).toEqual({ layers: 'shallow', size: 300 });

    // Blocks 1-3 only, and memory for 256 px: its auto is shallow.
    const small = { shallow: 256, auto: 256 };
    const taken: number[] = [];
    for (let lease = await claimJob(core.db, 'small', core.config.limits, small); lease; ) {
      taken.push(lease.jobId);
      lease = await claimJob(core.db, 'small', core.config.limits, small);
    }
    expect(taken).toEqual([ids.auto, ids.shallow]);
    expect(await claimJob(core.db, 'nothing', core.config.limits, {})).toBeUndefined();
    const full = { paper: 4096, shallow: 4096, auto: 4096 };
    expect((await claimJob(core.db, 'full', core.config.limits, full))?.jobId).toBe(ids.paper);
    expect((await claimJob(core.db, 'full', core.config.limits, full))?.jobId).toBe(ids.large);
  });

  it('the largest size is what the operator allows and a live worker fits; admins may lower it, never raise it', async () => {
    const server = { platform: 'discord', id: 'ceiling' } as const;
    const check = (options: { size?: number; layers?: 'auto' | 'paper' | 'shallow' } = {}) =>
      checkRequest(core, { server, requesterId: 'm', options, defaults: { layers: 'auto' } });
    // No worker alive: the operator's QUOTA_MAX_SIZE.
    await alive();
    expect((await check()).limits.maxSize).toBe(512);
    // The largest a live worker fits for the job's layers, and the default size lowered to it.
    await alive(
      ['w1', capability({ sizes: { shallow: 300 }, auto: 'shallow' })],
      ['w2', capability({ sizes: { shallow: 200 }, auto: 'shallow' })],
    );
    const fitted = await check();
    expect(fitted.limits.maxSize).toBe(300);
    expect(fitted.options.size).toBe(300);
    const over = await check({ size: 384 }).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(QuotaError);
    expect((over as QuotaError).message).toBe(
      'The largest painting on this server is 300 px; ask for 300 px or less.',
    );

    await expect(setLimits(core, server, { maxSize: 1024 }, ADMIN)).rejects.toThrow(
      '`max_size` can be at most 512 px: that is the largest painting this bot makes.',
    );
    await setLimits(core, server, { maxSize: 128 }, ADMIN);
    expect((await check()).limits.maxSize).toBe(128);
    // A value stored before (or above a QUOTA_MAX_SIZE lowered since) counts as the operator's ceiling.
    await core.db.prisma.server.updateMany({ where: { externalId: 'ceiling' }, data: { maxSize: 4096 } });
    await alive();
    expect((await check()).limits.maxSize).toBe(512);
    const shown = await showLimits(core, server, ADMIN);
    expect(shown.limits.find((l) => l.name === 'maxSize')).toMatchObject({ value: 512, isDefault: false });
  });

  it('tells members plainly that painting is unavailable when no live worker can paint the request', async () => {
    const problem =
      'cannot paint with the paper layers (STYLIZE_LAYERS): layer conv4_1 (block4_conv1) is not in the weights';
    await alive(['small', capability({ sizes: { shallow: 512 }, auto: 'shallow', problem })]);
    const refusal = await checkRequest(core, {
      server: { platform: 'slack', id: 'T-unavailable' },
      requesterId: 'm',
      defaults: { layers: 'paper' },
    }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(MemberFacingError);
    const reply = memberReply(refusal);
    expect(reply).toMatchObject({ audience: 'operator', log: true, code: 'unavailable' });
    expect(reply.text).toBe(PAINTING_UNAVAILABLE_TEXT);
    expect(reply.text).toMatch(/^Painting is unavailable right now/);
    // The operator's log line names the cause.
    expect((refusal as Error).message).toBe(`painting is unavailable: ${problem}`);
    await expect(submitJob(core, await request('unavailable', 'm', { layers: 'paper' }))).rejects.toThrow(
      /^painting is unavailable/,
    );
    // What the same workers can paint is accepted.
    await expect(
      checkRequest(core, { server: { platform: 'slack', id: 'T-unavailable' }, requesterId: 'm' }),
    ).resolves.toBeDefined();
  });

  it('refuses at submission an image too long and narrow for the layers it would be painted with', async () => {
    const shapes = {
      tall: await solid(1, 5000),
      wide: await solid(5000, 1),
      screenshot: await solid(1170, 15000),
    };
    const attempt = async (content: Buffer, layers: 'auto' | 'paper' | 'shallow' = 'auto') =>
      submitJob(core, { ...(await request('shapes', 'm', { layers, size: 384 })), content }).catch(
        (e: unknown) => e,
      );
    const images = await core.db.prisma.image.count();
    // A live worker would paint `auto` with the paper's layers: 12:1 at most.
    await alive(['full', capability({})]);
    for (const content of Object.values(shapes)) {
      const refusal = await attempt(content);
      expect(memberReply(refusal)).toMatchObject({ audience: 'member', log: false });
      expect((refusal as Error).message).toMatch(
        /^Your photo is too long and narrow for me to paint \(\d+×\d+ pixels, about \d+:1\): at 384 px I can paint shapes up to about 12:1\. Crop it to at most 12:1 and send it again/,
      );
    }
    // Nothing stored for a refused request.
    expect(await core.db.prisma.image.count()).toBe(images);
    // A style image as well.
    const style = await submitJob(core, {
      ...(await request('shapes', 'm', { size: 384 })),
      styles: [{ image: shapes.wide, name: 'strip' }],
    }).catch((e: unknown) => e);
    expect((style as Error).message).toMatch(/^Your style image is too long and narrow/);
    // With only workers of the shallow layers (4 px at the smallest scale), the screenshot can be painted.
    await alive(['small', capability({ sizes: { shallow: 512 }, auto: 'shallow' })]);
    expect(await attempt(shapes.tall)).toBeInstanceOf(Error);
    const accepted = await attempt(shapes.screenshot);
    expect(accepted).toMatchObject({ job: { status: 'queued' } });
  });
});
