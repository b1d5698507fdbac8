import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import type { JobProgress, ResultImages } from '../jobs/events.ts';
import { completeJob, requeueStale } from '../jobs/jobs.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import { jobOptionsSchema } from '../jobs/options.ts';
import { purgeExpired } from '../jobs/retention.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { decodeImage } from '../lib/images/index.ts';
import { cancelJob } from '../rules/cancel.ts';
import { Painter } from '../worker/paint.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';
import {
  type Child,
  createTestDatabase,
  PAINTS_ANY,
  picture,
  recordingEvents,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// One real worker process on SQLite, with the bot's notifier in this process as the chat adapters' stand-in:
// a bad job fails with a message and a refund while the worker goes on, a good one completes with its images,
// and a running one stops when cancelled.
describe('worker process', () => {
  let db: TestDatabase;
  let core: Core;
  let worker: Child | undefined;
  let notifier: Notifier;
  const recorded = recordingEvents();

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
    notifier = startNotifier(core, { discord: recorded.events });
  });
  afterAll(async () => {
    if (worker) await stopProcess(worker);
    await notifier?.stop();
    await core?.close();
    await db?.drop();
  });

  const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
  const refunded = async (jobId: number) =>
    (await core.db.prisma.usage.findUniqueOrThrow({ where: { jobId } })).refundedAt !== null;

  it('keeps the event loop turning while it paints, so heartbeats and cancel checks run during a job', async () => {
    // TensorFlow.js on WASM never returns to the event loop by itself; the engine's driver makes it.
    const painter = new Painter({ weightsDir: SHALLOW_WEIGHTS, backend: 'wasm' });
    const image = await decodeImage(await picture(3));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      const options = jobOptionsSchema.parse({ size: 24, iterations: 30, layers: 'shallow' });
      await painter.paint(
        { content: image, styles: [{ image, name: 'p', weight: 1 }], options },
        { signal: new AbortController().signal, progressEveryMs: 1000, onProgress: () => {} },
      );
    } finally {
      clearInterval(timer);
      painter.dispose();
    }
    // About one tick per optimiser step (30 steps); without yielding only the few awaits around setup count.
    expect(ticks).toBeGreaterThanOrEqual(15);
  });

  it('fails a job whose images are gone, with a message and a refund, and goes on to the next', async () => {
    const broken = await submit(core, 'w', 'ann');
    await core.images.delete([(await job(broken.job.id)).contentRef]);
    const good = await submit(core, 'w', 'ben', { size: 24, iterations: 3 });

    // The WASM backend keeps the long jobs below long enough to cancel and take over whatever else is installed.
    worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_BACKEND: 'wasm' }));
    await waitFor('both jobs to end', async () => (await job(good.job.id)).finishedAt !== null, 90_000);

    const failed = await job(broken.job.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/no longer stored/);
    expect(await refunded(broken.job.id)).toBe(true);

    const done = await job(good.job.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(1);
    expect(await refunded(good.job.id)).toBe(false);

    await waitFor('the events', async () => recorded.count('completed', good.job.id) === 1);
    expect(recorded.count('failed', broken.job.id)).toBe(1);
    const failedEvent = recorded.calls.find((c) => c.kind === 'failed' && c.jobId === broken.job.id);
    expect(failedEvent?.detail).toMatch(/no longer stored/);
    const completed = recorded.calls.find((c) => c.kind === 'completed')!.detail as ResultImages;
    const result = await sharp(completed.result.bytes).metadata();
    expect(completed.result.mime).toBe('image/png');
    expect(Math.max(result.width, result.height)).toBe(24);
    const side = await sharp(completed.comparison.bytes).metadata();
    expect(side.width).toBeGreaterThan(2 * result.width); // photo, painting and result side by side
    // The timelapse, stored with the job in the format Discord previews, at the result's size (smaller than the
    // timelapse's 256 px): the photo and each of the 3 iterations, 100 ms each, then the result held for 2 s.
    // WebP shows a frame identical to the one before as one longer frame (L-BFGS's first step can change no pixel
    // level), so the playing time, not the page count, tells that every frame is there.
    const timelapse = await core.images.get(done.timelapseRef!);
    expect(timelapse?.mime).toBe('image/webp');
    const animation = await sharp(timelapse!.bytes, { animated: true }).metadata();
    expect(animation).toMatchObject({ format: 'webp', width: result.width, pageHeight: result.height });
    expect(animation.pages).toBeGreaterThanOrEqual(2);
    expect(animation.pages).toBeLessThanOrEqual(4);
    expect(animation.delay!.reduce((a, b) => a + b, 0)).toBe(3 * 100 + 2000);
    expect(recorded.count('progress', good.job.id)).toBeGreaterThanOrEqual(1);
    // The worker measured its speed on the job and reports it with its heartbeat, for the queue's ETAs.
    const speed = await waitFor(
      'the measured speed',
      async () => (await core.db.prisma.worker.findFirst())?.speed ?? undefined,
    );
    expect(speed).toBeGreaterThan(0);
    // The idle worker may take a job before submitJob reads its place (then it is running, with no estimate yet
    // of its own): the one behind it is queued, and its wait is estimated from the measured speed.
    await submit(core, 'w', 'eve', { size: 24, iterations: 30 });
    const next = await submit(core, 'w', 'fay', { size: 24, iterations: 30 });
    expect(next.position).not.toBeNull();
    expect(next.etaMs).toBeGreaterThan(0);
  });

  it('stops a running job within an iteration of seeing the cancel flag, and refunds it', async () => {
    const iterations = 400; // far more than it gets to run
    const long = await submit(core, 'w', 'cid', { size: 24, iterations });
    // Painting, and the members have seen a preview. (The notifier tells the latest state it sees, so a
    // cancel right after the first iterations may overtake every preview.)
    const withPreview = () =>
      recorded.calls.filter(
        (c) =>
          c.kind === 'progress' &&
          c.jobId === long.job.id &&
          (c.detail as JobProgress | undefined)?.preview?.mime === 'image/jpeg',
      );
    await waitFor('a progress event with a preview', async () => withPreview().length > 0);
    expect(
      await cancelJob(core, { platform: 'discord', id: 'w' }, long.job.id, { userId: 'cid', isAdmin: false }),
    ).toBe('stopping');
    await waitFor('the job to stop', async () => (await job(long.job.id)).status === 'cancelled');
    const stopped = await job(long.job.id);
    expect(stopped.iteration).toBeLessThan(iterations);
    expect(stopped.resultRef).toBeNull();
    expect(await refunded(long.job.id)).toBe(true);
    await waitFor('the cancelled event', async () => recorded.count('cancelled', long.job.id) === 1);

    // The worker is still there for the next job.
    const next = await submit(core, 'w', 'cid');
    await waitFor('the next job', async () => (await job(next.job.id)).status === 'succeeded');
  });

  it('a worker whose job was taken over stops painting it and goes on with the next', async () => {
    const { job: taken } = await submit(core, 'w', 'dee', { size: 24, iterations: 400 });
    await waitFor('the job to be painting', async () => (await job(taken.id)).iteration >= 2);
    // As if the worker had gone silent: a sweep past the timeout, then another worker (this test) takes it.
    const later = new Date(Date.now() + core.config.jobs.staleAfterMs + 1000);
    expect((await requeueStale(core.db, core.config.jobs, later)).requeued).toEqual([taken.id]);
    const lease = await claimJob(core.db, 'takeover', core.config.limits, PAINTS_ANY);
    expect(lease?.jobId).toBe(taken.id);
    await waitFor('the worker to notice', async () =>
      worker!.output().includes('taken over by another worker'),
    );
    expect(
      await completeJob(core.db, core.images, lease!, { resultRef: 'r', comparisonRef: 'c' }, new Date()),
    ).toBe(true);
    const next = await submit(core, 'w', 'dee');
    await waitFor('the next job', async () => (await job(next.job.id)).status === 'succeeded');
    expect((await job(taken.id)).workerId).toBe('takeover');
  });

  it('deletes finished jobs’ images after the retention, once their events went out', async () => {
    expect(await core.db.prisma.image.count()).toBeGreaterThan(0);
    await notifier.drain();
    const finished = await core.db.prisma.job.count({ where: { finishedAt: { not: null } } });
    const purged = await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 1000));
    expect(purged.jobs).toBe(finished);
    expect(await core.db.prisma.image.count()).toBe(0);
    expect(await core.db.prisma.job.count({ where: { timelapseRef: { not: null } } })).toBe(0);
    expect(await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 1000))).toEqual({
      jobs: 0,
      images: 0,
    });
  });
});
