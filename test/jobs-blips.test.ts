import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import {
  type Child,
  createTestDatabase,
  failWrites,
  logLines,
  PROVIDERS,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// The database refuses writes for a while just as a worker stores a finished painting, or its progress: the
// worker waits it out, and the painting is stored once the database is back, in the same attempt.
describe.each(PROVIDERS)('database blips on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  let worker: Child | undefined;

  beforeEach(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db);
  });
  afterEach(async () => {
    if (worker) await stopProcess(worker, 'SIGKILL');
    await core?.close();
    await db?.drop();
  });

  const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });

  it('a blip while the result is stored costs no attempt: the painting is stored once the database is back', async () => {
    const blip = await failWrites(core, 'completion_blip', {
      table: 'Job',
      op: 'UPDATE',
      when: `NEW."status" = 'succeeded'`,
    });
    worker = spawnProcess('worker/main.ts', testEnv(db));
    const { job: submitted } = await submit(core, 'blip', 'ann', { size: 24, iterations: 5 });
    // Three refused tries, or (without retries) the job ended some other way.
    await waitFor(
      'three refused completions',
      async () =>
        logLines(worker!.output(), 'could not store the painting; retrying').length >= 3 ||
        (await job(submitted.id)).finishedAt !== null,
      90_000,
    );
    await blip.heal();
    await waitFor('the job to end', async () => (await job(submitted.id)).finishedAt !== null, 60_000);
    const done = await job(submitted.id);
    expect({ status: done.status, attempts: done.attempts, error: done.error }).toEqual({
      status: 'succeeded',
      attempts: 1,
      error: null,
    });
    expect(logLines(worker.output(), 'job failed')).toEqual([]);
    // The result's images were stored once: the retries reused them.
    const refs = [
      done.contentRef,
      done.resultRef,
      done.comparisonRef,
      done.timelapseRef,
      ...JSON.parse(done.styleRefs).map((s: { ref: string }) => s.ref),
    ];
    expect(await core.db.prisma.image.count()).toBe(refs.length);
  });

  it('a blip during progress writes is waited out with backoff, without failing or repeating the job', async () => {
    const blip = await failWrites(core, 'progress_blip', {
      table: 'Job',
      op: 'UPDATE',
      when: `NEW."iteration" > 0 AND NEW."status" = 'running'`,
    });
    worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_BACKEND: 'wasm' }));
    const { job: submitted } = await submit(core, 'blip', 'ben', { size: 24, iterations: 60 });
    await waitFor(
      'refused progress writes',
      async () =>
        logLines(worker!.output(), 'could not write progress; retrying').length >= 3 ||
        (await job(submitted.id)).finishedAt !== null,
      90_000,
    );
    await blip.heal();
    await waitFor('the job to end', async () => (await job(submitted.id)).finishedAt !== null, 90_000);
    const done = await job(submitted.id);
    expect({ status: done.status, attempts: done.attempts }).toEqual({ status: 'succeeded', attempts: 1 });
    const waits = logLines(worker.output(), 'could not write progress; retrying').map(
      (l) => l.waitMs as number,
    );
    // Backoff: each wait at least the one before (doubling, up to the cap).
    expect(waits.slice(1).every((w, i) => w >= waits[i]!)).toBe(true);
    expect(waits.at(-1)!).toBeGreaterThan(waits[0]!);
  });
});
