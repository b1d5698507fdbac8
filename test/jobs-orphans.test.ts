import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import type { ImageStore } from '../jobs/image-store.ts';
import { styleRefsSchema } from '../jobs/options.ts';
import { ORPHAN_GRACE_MS, purgeExpired } from '../jobs/retention.ts';
import { submitJob } from '../rules/submit.ts';
import {
  type Child,
  createTestDatabase,
  harness,
  PROVIDERS,
  picture,
  request,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// Images are stored before the rows that refer to them, and deleted after the rows stop referring to them: a
// process that dies in between leaves an image nobody refers to. Kill a submitter and a worker at each of their
// image writes; after retention, no image is left that nothing refers to, and none that something does is gone.
describe.each(PROVIDERS)('orphan images on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];
  const env = { STALE_AFTER_MS: '1500', MAX_ATTEMPTS: '50' };

  beforeEach(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, env);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => stopProcess(c, 'SIGKILL')));
    await core?.close();
    await db?.drop();
  });

  /** Images nothing refers to (no job whose images are kept, no preset), and referred-to images that are gone. */
  async function audit() {
    const { prisma } = core.db;
    const jobs = await prisma.job.findMany({ where: { imagesPurgedAt: null } });
    const presets = await prisma.preset.findMany();
    const referenced = new Set(
      [
        ...jobs.flatMap((j) => [
          j.contentRef,
          ...styleRefsSchema.parse(JSON.parse(j.styleRefs)).map((s) => s.ref),
          j.previewRef,
          j.resultRef,
          j.comparisonRef,
          j.timelapseRef,
        ]),
        ...presets.map((p) => p.imageRef),
      ].filter((ref): ref is string => ref !== null),
    );
    const images = await prisma.image.findMany({ select: { id: true, bytes: true } });
    const stored = new Set(images.map((i) => i.id));
    const orphans = images.filter((i) => !referenced.has(i.id));
    return {
      orphans: orphans.length,
      orphanBytes: orphans.reduce((sum, i) => sum + i.bytes.length, 0),
      missing: [...referenced].filter((ref) => !stored.has(ref)).length,
    };
  }

  /** A submitter that dies right after its `n`-th image write: the submission never returns. */
  function dyingAfter(n: number): Core {
    let writes = 0;
    const images: ImageStore = {
      put: async (image) => {
        const ref = await core.images.put(image);
        if (++writes === n) await new Promise(() => {}); // the process is gone: nothing after this runs
        return ref;
      },
      get: (ref) => core.images.get(ref),
      storedBefore: (before, page) => core.images.storedBefore(before, page),
      delete: (refs) => core.images.delete(refs),
    };
    return { ...core, images };
  }

  it('leaves no orphan after retention when submitters and workers are killed at each image write', async () => {
    // Submitters: a photo and two paintings, killed after the first, second and third image.
    for (let n = 1; n <= 3; n++) {
      const req = await request('orphans', `sub${n}`);
      req.styles.push({ image: await picture(7), name: 'second painting' });
      void submitJob(dyingAfter(n), req);
      await waitFor(
        `submitter ${n} to die`,
        async () => (await core.db.prisma.image.count()) >= (n * (n + 1)) / 2,
      );
    }

    // Workers: each one killed at its k-th image write (a preview, result, comparison or a deletion), until a
    // worker gets to finish the job before reaching its k-th write.
    const { job } = await submit(core, 'orphans', 'painter', { size: 24, iterations: 3 });
    const status = async () => (await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status;
    let kills = 0;
    for (let k = 1; k <= 12; k++) {
      const worker = spawnProcess('test/jobs/pausing-worker.ts', testEnv(db, env), { stdin: 'pipe' });
      children.push(worker);
      const writes = harness(worker);
      const reached = await waitFor(`write ${k} or the job's end`, async () => {
        const reply = writes.poll();
        if (reply && reply.n === k) return 'kill';
        if (reply) writes.send('go on');
        return (await status()) === 'succeeded' && 'done';
      });
      if (reached === 'done') break;
      worker.process.kill('SIGKILL');
      await worker.exited;
      kills++;
    }
    expect(await status()).toBe('succeeded');
    expect(kills).toBeGreaterThanOrEqual(4);

    const before = await audit();
    // Retention: past the grace period for images nothing refers to, well before the job's own expire.
    await purgeExpired(core, new Date(Date.now() + ORPHAN_GRACE_MS + 1000));
    const after = await audit();
    console.log(
      `orphans on ${provider}: 3 submitters and ${kills} workers killed at an image write left ` +
        `${before.orphans} orphans (${before.orphanBytes} bytes); after retention ${after.orphans}`,
    );
    expect(before.orphans).toBeGreaterThan(0);
    expect(after).toEqual({ orphans: 0, orphanBytes: 0, missing: 0 });
    const done = await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(await core.images.get(done.resultRef!)).toBeDefined();
  });

  it('keeps images that nothing refers to yet while they are younger than the grace period', async () => {
    const ref = await core.images.put({ mime: 'image/png', bytes: await picture(8) });
    await purgeExpired(core, new Date(Date.now() + ORPHAN_GRACE_MS - 60_000));
    expect(await core.images.get(ref)).toBeDefined();
    await purgeExpired(core, new Date(Date.now() + ORPHAN_GRACE_MS + 1000));
    expect(await core.images.get(ref)).toBeUndefined();
  });
});
