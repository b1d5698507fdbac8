import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../src/core/core.ts';
import type { JobEvents } from '../src/core/events.ts';
import { completeJob, writeProgress } from '../src/core/jobs.ts';
import { type Notifier, startNotifier } from '../src/core/notifier.ts';
import { claimJob } from '../src/core/scheduler.ts';
import {
  createTestDatabase,
  failWrites,
  PAINTS_ANY,
  PROVIDERS,
  picture,
  recordingEvents,
  submit,
  type TestDatabase,
  testCore,
  waitFor,
} from './job-system.ts';

// Each job event reaches the chat adapters once: not again and again while the database cannot record that it
// went out (a full disk), and not a second time from a bot restarted after dying in the middle of posting it.
describe.each(PROVIDERS)('event delivery on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  const notifiers: Notifier[] = [];
  const start = (events: JobEvents) => {
    const notifier = startNotifier(core, events);
    notifiers.push(notifier);
    return notifier;
  };

  beforeEach(async () => {
    db = await createTestDatabase(provider);
    // The notifier polls every 20-50 ms (on PostgreSQL too, as its safety net), so repeats would show quickly.
    core = await testCore(db, { POLL_MIN_MS: '20', POLL_MAX_MS: '50', LOG_LEVEL: 'fatal' });
  });
  afterEach(async () => {
    await Promise.all(notifiers.splice(0).map((n) => n.stop()));
    await core?.close();
    await db?.drop();
  });

  /** A job claimed by a (pretend) worker, with one progress write: one event pending. */
  async function runningJob() {
    const { job } = await submit(core, 'events', 'ann');
    const lease = (await claimJob(core.db, 'worker', core.config.limits, PAINTS_ANY))!;
    const preview = { mime: 'image/png' as const, bytes: await picture(3) };
    await writeProgress(
      core.db,
      core.images,
      lease,
      { iteration: 1, converged: false, loss: 1, etaMs: 1000, preview },
      new Date(),
    );
    return { job, lease };
  }

  it('does not repeat an event while its delivery cannot be recorded, and passes it on once it can', async () => {
    const blip = await failWrites(core, 'full_disk', {
      table: 'Job',
      op: 'UPDATE',
      when: `OLD."eventPending" = true AND NEW."eventPending" = false`,
    });
    const { job } = await runningJob();
    const recorded = recordingEvents();
    start(recorded.events);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // some thirty polls with the disk full
    const whileFull = recorded.count('progress', job.id);
    await blip.heal();
    await waitFor('the event', async () => recorded.count('progress', job.id) > whileFull);
    await new Promise((resolve) => setTimeout(resolve, 500));
    console.log(
      `delivery on ${provider}: ${whileFull} progress events while the disk was full, ` +
        `${recorded.count('progress', job.id)} in all`,
    );
    expect(whileFull).toBe(0);
    expect(recorded.count('progress', job.id)).toBe(1);
  });

  it('does not post a final result again after the bot died while posting it', async () => {
    const { job, lease } = await runningJob();
    const refs = {
      resultRef: await core.images.put({ mime: 'image/png', bytes: await picture(4) }),
      comparisonRef: await core.images.put({ mime: 'image/png', bytes: await picture(5) }),
    };
    // The first bot: its adapter is posting the result when the process dies (its call never returns).
    const posts: number[] = [];
    let unblock: () => void = () => {};
    const dying = recordingEvents();
    start({
      ...dying.events,
      completed: (view) => {
        posts.push(view.id);
        return new Promise((resolve) => {
          unblock = resolve;
        });
      },
    });
    await completeJob(core.db, core.images, lease, refs, new Date());
    await waitFor('the first bot to post', async () => posts.length === 1);

    // The restarted bot.
    const restarted = recordingEvents();
    const again = start(restarted.events);
    await again.drain();
    await new Promise((resolve) => setTimeout(resolve, 300));
    unblock();
    expect(posts).toEqual([job.id]);
    expect(restarted.count('completed', job.id)).toBe(0);
  });
});
