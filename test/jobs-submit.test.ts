import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { ImageError } from '../lib/images/index.ts';
import { listPresets } from '../presets/presets.ts';
import { addPreset, listQueue, removePreset } from '../rules/admin.ts';
import { submitJob } from '../rules/submit.ts';
import { createTestDatabase, picture, request, type TestDatabase, testCore } from './job-system.ts';

const ADMIN = { userId: 'admin', isAdmin: true };
const SERVER = { platform: 'discord', id: 'sub' } as const;

// What the adapters call for /stylize: bad input is refused with a message and leaves nothing stored;
// paintings come as uploads or as presets (the server's own, then the operator's folder).
describe('submitting', () => {
  let db: TestDatabase;
  let core: Core;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const presets = join(db.dataDir, 'presets');
    mkdirSync(presets);
    writeFileSync(join(presets, 'operators_painting.png'), await picture(5));
    core = await testCore(db, { PRESETS_DIR: presets });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  const images = () => core.db.prisma.image.count();

  it('refuses a file that is not an image, and one without any painting, storing nothing', async () => {
    const before = await images();
    const bad = { ...(await request('sub', 'ann')), content: Buffer.from('not a picture') };
    await expect(submitJob(core, bad)).rejects.toBeInstanceOf(ImageError);
    // The photo is fine and stored first; the painting is not: the photo must not stay behind.
    const badStyle = {
      ...(await request('sub', 'ann')),
      styles: [{ image: Buffer.from('GIF89a...'), name: 'x' }],
    };
    await expect(submitJob(core, badStyle)).rejects.toBeInstanceOf(ImageError);
    const noStyle = { ...(await request('sub', 'ann')), styles: [] };
    await expect(submitJob(core, noStyle)).rejects.toThrow(/one painting/);
    const tooBig = await request('sub', 'ann', { size: 5000 });
    const refusal = await submitJob(core, tooBig).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(UserError);
    expect((refusal as UserError).message).toBe('The size can be at most 4096 px.');
    expect(await images()).toBe(before);
    expect(await core.db.prisma.job.count()).toBe(0);
  });

  it("paints with the server's presets and the operator's, and names them when one is unknown", async () => {
    await expect(
      addPreset(core, SERVER, 'mine', await picture(6), { userId: 'x', isAdmin: false }),
    ).rejects.toThrow(/admin/);
    await addPreset(core, SERVER, 'mine', await picture(6), ADMIN);
    expect(await listPresets(core, SERVER)).toEqual(['mine', 'operators_painting']);

    const both = await submitJob(core, {
      ...(await request('sub', 'ben')),
      styles: [{ preset: 'mine' }, { preset: 'operators_painting', weight: 2 }],
    });
    expect(both.job.styles).toEqual([
      { name: 'mine', weight: 1 },
      { name: 'operators_painting', weight: 2 },
    ]);
    expect(both.position).toBe(1);
    const queue = await listQueue(core, SERVER, ADMIN);
    expect(queue).toMatchObject([{ jobId: both.job.id, requesterId: 'ben', status: 'queued', position: 1 }]);

    await removePreset(core, SERVER, 'mine', ADMIN);
    const unknown = submitJob(core, { ...(await request('sub', 'ben')), styles: [{ preset: 'mine' }] });
    await expect(unknown).rejects.toThrow(/no painting called "mine".*operators_painting/);
  });
});
