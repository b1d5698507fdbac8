import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import type { JobEvents } from '../jobs/events.ts';
import { type Lease, writeProgress } from '../jobs/jobs.ts';
import { type JobEventRoutes, type Notifier, startNotifier } from '../jobs/notifier.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { submitJob } from '../rules/submit.ts';
import {
  createTestDatabase,
  failWrites,
  finishJob,
  PAINTS_ANY,
  PROVIDERS,
  picture,
  recordingEvents,
  request,
  type TestDatabase,
  testCore,
  waitFor,
} from './job-system.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Each job event reaches the adapter of its platform: progress once per revision (not again and again while the
// database cannot record that it went out), a final state once even when the bot dies in the middle of posting
// it, and one job's slow delivery holds up no other job's.
describe.each(PROVIDERS)('event delivery on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  const notifiers: Notifier[] = [];
  const start = (routes: JobEventRoutes) => {
    const notifier = startNotifier(core, routes);
    notifiers.push(notifier);
    return notifier;
  };

  beforeEach(async () => {
    db = await createTestDatabase(provider);
    // The notifier polls every 20-50 ms (on PostgreSQL too, as its safety net), so repeats would show quickly;
    // a final state being posted is refreshed every 100 ms and taken over after 600 ms without.
    core = await testCore(db, {
      POLL_MIN_MS: '20',
      POLL_MAX_MS: '50',
      HEARTBEAT_MS: '100',
      STALE_AFTER_MS: '600',
      LOG_LEVEL: 'fatal',
    });
  });
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.stop()));
    await core?.close();
    await db?.drop();
  });

  /** A job of `platform` claimed by a (pretend) worker, with one progress write: one event pending. */
  async function runningJob(platform: 'discord' | 'slack' = 'discord', member = 'ann') {
    const server = `events-${platform}-${member}`;
    const { job } = await submitJob(core, {
      ...(await request(server, member)),
      server: { platform, id: server },
    });
    const lease = (await claimJob(core.db, `worker-${job.id}`, core.config.limits, PAINTS_ANY))!;
    expect(lease.jobId).toBe(job.id);
    await progress(lease, 1);
    return { job, lease };
  }

  async function progress(lease: Lease, iteration: number) {
    const preview = { mime: 'image/png' as const, bytes: await picture(3) };
    await writeProgress(
      core.db,
      core.images,
      lease,
      { iteration, converged: false, loss: 1, etaMs: 1000, preview },
      new Date(),
    );
  }

  const complete = (lease: Lease) => finishJob(core, lease);

  const row = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });

  it('does not repeat an event while its delivery cannot be recorded, and passes it on once it can', async () => {
    const blip = await failWrites(core, 'full_disk', {
      table: 'Job',
      op: 'UPDATE',
      when: `OLD."eventPending" = true AND NEW."eventPending" = false`,
    });
    const { job } = await runningJob();
    const recorded = recordingEvents();
    start({ discord: recorded.events });
    await sleep(1500); // some thirty polls with the disk full
    const whileFull = recorded.count('progress', job.id);
    await blip.heal();
    await waitFor('the event', async () => recorded.count('progress', job.id) > whileFull);
    await sleep(500);
    console.log(
      `delivery on ${provider}: ${whileFull} progress events while the disk was full, ` +
        `${recorded.count('progress', job.id)} in all`,
    );
    expect(whileFull).toBe(0);
    expect(recorded.count('progress', job.id)).toBe(1);
  });

  it('leaves a final state to the bot still posting it, however long that takes, and records it once posted', async () => {
    const { job, lease } = await runningJob();
    const posts: number[] = [];
    let unblock: () => void = () => {};
    const slow = recordingEvents();
    start({
      discord: {
        ...slow.events,
        completed: (view) => {
          posts.push(view.id);
          return new Promise((resolve) => {
            unblock = resolve;
          });
        },
      },
    });
    await complete(lease);
    await waitFor('the first bot to post', async () => posts.length === 1);
    expect((await row(job.id)).deliveringAt).not.toBeNull();

    // A second bot (a restart overlapping the first) while the post takes three times STALE_AFTER_MS.
    const other = recordingEvents();
    const again = start({ discord: other.events });
    await sleep(1800);
    await again.drain();
    expect(other.count('completed', job.id)).toBe(0);
    unblock();
    await waitFor('the post to be recorded', async () => (await row(job.id)).deliveredAt !== null);
    expect(posts).toEqual([job.id]);
    expect((await row(job.id)).deliveringAt).toBeNull();
  });

  it('passes a final state on again, resumed, when the bot that was posting it stopped before recording it', async () => {
    const { job, lease } = await runningJob();
    await complete(lease);
    // What a bot killed mid-post leaves: the event taken, the intent recorded, no completion.
    await core.db.prisma.job.update({
      where: { id: job.id },
      data: { eventPending: false, deliveringAt: new Date(Date.now() - 5_000) },
    });
    const deliveries: { resumed: boolean | undefined }[] = [];
    const recorded = recordingEvents();
    const restarted = start({
      discord: {
        ...recorded.events,
        completed: async (_view, _images, delivery) => void deliveries.push({ resumed: delivery?.resumed }),
      },
    });
    await waitFor('the resumed delivery', async () => (await row(job.id)).deliveredAt !== null);
    await restarted.drain();
    await sleep(800); // past STALE_AFTER_MS: nothing is passed on a third time
    expect(deliveries).toEqual([{ resumed: true }]);
  });

  it('passes a final state on again, resumed, when its posting could not be recorded, and once it can be', async () => {
    const blip = await failWrites(core, 'no_completion', {
      table: 'Job',
      op: 'UPDATE',
      when: `NEW."deliveredAt" IS NOT NULL`,
    });
    const { job, lease } = await runningJob();
    const deliveries: (boolean | undefined)[] = [];
    const recorded = recordingEvents();
    start({
      discord: {
        ...recorded.events,
        completed: async (_view, _images, delivery) => void deliveries.push(delivery?.resumed),
      },
    });
    await complete(lease);
    await waitFor('the first delivery', async () => deliveries.length === 1);
    await sleep(300);
    await blip.heal();
    await waitFor('the completion recorded', async () => (await row(job.id)).deliveredAt !== null);
    await sleep(800);
    expect(deliveries).toEqual([false, true]);
  });

  it('routes each job to its platform’s adapter, and a slow Discord delivery does not delay a Slack job', async () => {
    const slowJob = await runningJob('discord', 'dan');
    const discord = recordingEvents();
    const slack = recordingEvents();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let discordCalls = 0;
    const notifier = start({
      discord: {
        ...discord.events,
        // Discord waiting out rate limits: every call takes until the test releases it.
        progress: async (job, p) => {
          discordCalls++;
          await held;
          await discord.events.progress(job, p);
        },
      },
      slack: slack.events,
    });
    await waitFor('the Discord job’s event to be under way', async () => discordCalls === 1);

    const quick = await runningJob('slack', 'sam');
    const asked = Date.now();
    await waitFor('the Slack job’s progress', async () => slack.count('progress', quick.job.id) === 1);
    const progressMs = Date.now() - asked;
    await complete(quick.lease);
    await waitFor('the Slack job’s result', async () => slack.count('completed', quick.job.id) === 1);
    const resultMs = Date.now() - asked;
    console.log(
      `delivery on ${provider}: a Slack job's progress after ${progressMs} ms and its result after ${resultMs} ms ` +
        'while a Discord call hung',
    );
    expect(discord.count('progress', slowJob.job.id)).toBe(0);
    // Each adapter got its platform's jobs only.
    expect(discord.calls.some((c) => c.jobId === quick.job.id)).toBe(false);
    expect(slack.calls.some((c) => c.jobId === slowJob.job.id)).toBe(false);

    // Meanwhile the Discord job advanced twice and ended: its events wait, and come in order, the latest state.
    await progress(slowJob.lease, 2);
    await progress(slowJob.lease, 3);
    await complete(slowJob.lease);
    await sleep(200);
    expect(discordCalls).toBe(1);
    release();
    await notifier.drain();
    expect(discord.calls.filter((c) => c.jobId === slowJob.job.id).map((c) => c.kind)).toEqual([
      'progress',
      'completed',
    ]);
  });

  it('delivers different jobs’ events at once, one job’s one at a time', async () => {
    const jobs = [];
    for (const member of ['a', 'b', 'c', 'd']) jobs.push(await runningJob('discord', member));
    let running = 0;
    let most = 0;
    const perJob = new Map<number, number>();
    let overlapped = false;
    const events: JobEvents = {
      ...recordingEvents().events,
      progress: async (job) => {
        running++;
        most = Math.max(most, running);
        perJob.set(job.id, (perJob.get(job.id) ?? 0) + 1);
        if (perJob.get(job.id)! > 1) overlapped = true;
        await sleep(150);
        perJob.set(job.id, perJob.get(job.id)! - 1);
        running--;
      },
    };
    const notifier = start({ discord: events });
    await waitFor('the deliveries to start', async () => most >= 2);
    for (const { lease } of jobs) await progress(lease, 2);
    await notifier.drain();
    expect(most).toBeGreaterThan(1);
    expect(overlapped).toBe(false);
  });
});
