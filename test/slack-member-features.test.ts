/**
 * The Delete button and `/stylize help` on Slack, end to end: the real Bolt app (startSlack) against the fake
 * Slack Web API, signed requests as Slack sends them, the real core on SQLite, the notifier, and a real worker
 * loop painting tiny jobs (24 px, shallow layers of the real weights).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import { type SlackAdapter, startSlack } from '../slack/index.ts';
import { deletionTexts } from '../slack/listeners/delete-button.ts';
import { type RunningWorker, startWorker } from '../worker/loop.ts';
import { Painter } from '../worker/paint.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';
import { createTestDatabase, picture, type TestDatabase, testCore, waitFor } from './job-system.ts';
import { alice, SECRET, slackMember, slackTestConfig, TOKEN } from './platforms.ts';
import { FakeSlack } from './slack/fake-slack.ts';
import { blockAction, postSigned, slashCommand, type Who } from './slack/requests.ts';

const bob: Who = { ...alice, userId: 'U0BOB' };
const carol: Who = { ...alice, userId: 'U0CAROL' };

let db: TestDatabase;
let core: Core;
let slack: FakeSlack;
let adapter: SlackAdapter;
let notifier: Notifier;
let painter: Painter;
let worker: RunningWorker;
let endpoint: string;

beforeAll(async () => {
  db = await createTestDatabase('sqlite');
  core = await testCore(db, {
    PRESETS_DIR: asset('styles'),
    QUOTA_MEMBER_DAILY_JOBS: '5',
    QUOTA_MAX_SIZE: '512',
    QUOTA_MAX_ITERATIONS: '800',
  });
  slack = new FakeSlack(TOKEN, alice.teamId);
  await slack.start();
  slack.users.set(alice.userId, {});
  slack.users.set(bob.userId, { is_admin: false });
  slack.users.set(carol.userId, { is_admin: true });
  const config = slackTestConfig(slack, {
    previewsPerJob: 0,
    jobDefaults: { size: 24, iterations: 2, layers: 'shallow' },
  });
  adapter = await startSlack(core, config, pino({ level: 'silent' }));
  endpoint = `http://127.0.0.1:${adapter.port}/slack/events`;
  notifier = startNotifier(core, { slack: adapter.events });
  painter = new Painter({ weightsDir: SHALLOW_WEIGHTS, backend: 'wasm' });
  worker = startWorker(core, painter);
});

afterAll(async () => {
  await worker?.stop();
  painter?.dispose();
  await notifier?.stop();
  await adapter?.stop();
  await slack?.close();
  await core?.close();
  await db?.drop();
});

const post = (body: string) => postSigned(endpoint, body, { secret: SECRET });
const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });

/** Alice's painting from the form, once its images are in its thread: the job, its thread and progress message. */
async function painted() {
  const member = slackMember(slack, () => endpoint);
  const before = (await core.db.prisma.job.findFirst({ orderBy: { id: 'desc' } }))?.id ?? 0;
  await member.send(await member.openForm(), await picture(3, 40, 30));
  const jobId = await waitFor('the job', async () => {
    const latest = await core.db.prisma.job.findFirst({ orderBy: { id: 'desc' } });
    return latest && latest.id > before ? latest.id : undefined;
  });
  const row = await waitFor('the painting posted', async () => {
    const current = await job(jobId);
    return current.chatRefs && JSON.parse(current.chatRefs).done ? current : undefined;
  });
  const results = slack.messages.filter((m) => m.thread_ts === row.threadId && (m.files ?? []).length === 2);
  expect(results).toHaveLength(1);
  return { jobId, row, result: results[0]!, progressTs: JSON.parse(row.chatRefs!).progressTs as string };
}

/** `who` presses Delete on the painting's progress message; resolves with the answer to them alone. */
async function pressDelete(who: Who, jobId: number, progressTs: string) {
  const responseUrl = slack.responseUrl();
  const id = responseUrl.split('/').pop();
  expect(
    (
      await post(
        blockAction(
          who,
          { ts: progressTs },
          { action_id: 'stylize_delete', value: String(jobId) },
          responseUrl,
        ),
      )
    ).status,
  ).toBe(200);
  return waitFor('the answer', async () => slack.responses.find((r) => r.id === id)?.body);
}

describe('Slack: Delete and help', () => {
  it('Delete: refused to another member, privately; the requester’s removes the painting and its files', async () => {
    const { jobId, row, result, progressTs } = await painted();
    const done = await slack.waitForCall(
      'chat.update',
      (c) => c.args.ts === progressTs && /is done/.test(String(c.args.text)),
    );
    expect(JSON.stringify(done.args.blocks)).toContain('"action_id":"stylize_delete"');

    const bobs = await pressDelete(bob, jobId, progressTs);
    expect(bobs).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(bobs.text).toBe('Only the member who asked for a painting, or an admin, can delete it.');
    expect(slack.callsOf('chat.delete')).toHaveLength(0);
    expect((await job(jobId)).deletedAt).toBeNull();

    const alices = await pressDelete(alice, jobId, progressTs);
    expect(alices).toMatchObject({ response_type: 'ephemeral', text: deletionTexts.deleted(jobId) });
    // The result's message and its two files are gone; the progress message says so, without buttons.
    expect(slack.callsOf('chat.delete').map((c) => c.args.ts)).toEqual([result.ts]);
    expect(
      slack
        .callsOf('files.delete')
        .map((c) => c.args.file)
        .sort(),
    ).toEqual(result.files!.map((f) => f.id).sort());
    expect(slack.messages.some((m) => m.ts === result.ts)).toBe(false);
    const notice = await slack.waitForCall(
      'chat.update',
      (c) => c.args.ts === progressTs && c.args.text === deletionTexts.notice(jobId, alice.userId),
    );
    expect(JSON.stringify(notice.args.blocks)).not.toContain('stylize_');
    const after = await job(jobId);
    expect(after).toMatchObject({ status: 'succeeded', deletedBy: alice.userId, resultRef: null });
    expect(await core.images.get(row.resultRef!)).toBeUndefined();
  });

  it('Delete: a workspace admin deletes a member’s painting', async () => {
    const { jobId, result, progressTs } = await painted();
    const carols = await pressDelete(carol, jobId, progressTs);
    expect(carols.text).toBe(deletionTexts.deleted(jobId));
    expect(slack.messages.some((m) => m.ts === result.ts)).toBe(false);
    expect((await job(jobId)).deletedBy).toBe(carol.userId);
  });

  it('/stylize help: how to ask, the options within this workspace’s limits, the paintings, what is left today', async () => {
    const answer = async (who: Who) => {
      const responseUrl = slack.responseUrl();
      const id = responseUrl.split('/').pop();
      const sent = slashCommand(who, '/stylize', 'help', { triggerId: 'trigger-help', responseUrl });
      expect((await post(sent)).status).toBe(200);
      return waitFor('the help', async () => slack.responses.find((r) => r.id === id)?.body);
    };
    const help = await answer(alice);
    expect(help.response_type).toBe('ephemeral');
    const text = String(help.text);
    expect(text).toContain('*Stylize this image*');
    expect(text).toContain('up to *512 px*');
    expect(text).toContain('up to *800*');
    expect(text).toContain('The Starry Night');
    // Two paintings today (deleting them gives nothing back), of five.
    expect(text).toContain('*3 more paintings*');
    expect(text).toContain('2 of your 5 used');
    expect(String((await answer(bob)).text)).toContain('*5 more paintings*');
  });

  it('Delete: a painting whose thread is gone is deleted all the same', async () => {
    const { jobId, row, progressTs } = await painted();
    // A member removed the thread's messages (the progress message among them) before Delete was pressed.
    slack.messages.splice(
      0,
      slack.messages.length,
      ...slack.messages.filter((m) => m.thread_ts !== row.threadId && m.ts !== row.threadId),
    );
    const alices = await pressDelete(alice, jobId, progressTs);
    expect(alices.text).toBe(deletionTexts.deleted(jobId));
    expect((await job(jobId)).deletedBy).toBe(alice.userId);
  });
});
