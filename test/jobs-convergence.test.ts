import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import type { JobProgress } from '../jobs/events.ts';
import { completeJob, loadJob, toJobView, writeProgress } from '../jobs/jobs.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { submitJob } from '../rules/submit.ts';
import {
  createTestDatabase,
  PAINTS_ANY,
  PROVIDERS,
  picture,
  recordingEvents,
  request,
  type TestDatabase,
  testCore,
} from './job-system.ts';

describe.each(PROVIDERS)('a painting that converged early (%s)', (provider) => {
  let db: TestDatabase;
  let core: Core;
  let notifier: Notifier;
  const recorded = recordingEvents();

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db);
    notifier = startNotifier(core, { discord: recorded.events });
  });
  afterAll(async () => {
    await notifier?.stop();
    await core?.close();
    await db?.drop();
  });

  it('reaches the adapters as converged, in its last progress and in the finished job', async () => {
    const { job } = await submitJob(core, await request('conv', 'ann', { iterations: 300 }));
    const lease = (await claimJob(core.db, 'w1', core.config.limits, PAINTS_ANY))!;
    expect(lease.jobId).toBe(job.id);
    const preview = { mime: 'image/jpeg' as const, bytes: await picture(3) };
    const progress = { iteration: 40, loss: 0.5, etaMs: 9000, preview };
    await writeProgress(core.db, core.images, lease, { ...progress, converged: false }, new Date());
    await notifier.drain();
    await writeProgress(
      core.db,
      core.images,
      lease,
      { ...progress, iteration: 96, converged: true },
      new Date(),
    );
    await notifier.drain();
    const seen = recorded.calls
      .filter((c) => c.kind === 'progress' && c.jobId === job.id)
      .map((c) => c.detail as JobProgress)
      .filter((p) => p.iteration > 0); // not the start
    expect(seen.map((p) => [p.iteration, p.iterations, p.converged])).toEqual([
      [40, 300, false],
      [96, 300, true],
    ]);

    const refs = { resultRef: 'r', comparisonRef: 'c' };
    expect(
      await completeJob(core.db, core.images, lease, refs, new Date(), { iteration: 97, converged: true }),
    ).toBe(true);
    const done = toJobView((await loadJob(core.db, job.id))!);
    expect(done).toMatchObject({ status: 'succeeded', iteration: 97, converged: true });
  });
});
