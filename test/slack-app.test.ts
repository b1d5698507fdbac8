import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { type Notifier, startNotifier } from '../jobs/notifier.ts';
import { purgeExpired } from '../jobs/retention.ts';
import { OPERATOR_FAULT_TEXT } from '../lib/member-error.ts';
import { setLimits } from '../rules/admin.ts';
import { type SlackAdapter, startSlack } from '../slack/index.ts';
import { asset } from './assets.ts';
import { downloadFaultCount } from './download-faults.ts';
import {
  type Child,
  createTestDatabase,
  picture,
  spawnProcess,
  stopProcess,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';
import { SECRET, slackTestConfig, TOKEN } from './platforms.ts';
import { type FakeCall, FakeSlack } from './slack/fake-slack.ts';
import {
  blockAction,
  blockSuggestion,
  type FormBlock,
  type FormView,
  formState,
  messageShortcut,
  postSigned,
  slashCommand,
  viewSubmission,
  type Who,
} from './slack/requests.ts';

// The Slack app end to end: a real Bolt HTTP receiver on 127.0.0.1 receiving signed requests, its Web API
// pointed at the fake Slack of test/slack/fake-slack.ts, a real SQLite core, the core's notifier feeding the
// adapter's job events, and a real worker process painting tiny jobs with the shallow weights.

const PRESETS_DIR = asset('styles');

describe('Slack app', () => {
  let db: TestDatabase;
  let core: Core;
  let slack: FakeSlack;
  let adapter: SlackAdapter;
  let notifier: Notifier;
  let worker: Child | undefined;
  let endpoint: string;

  const alice: Who = { teamId: 'T0TEST', userId: 'U0ALICE', channelId: 'C0ART' };
  const bob: Who = { ...alice, userId: 'U0BOB' };
  const carol: Who = { ...alice, userId: 'U0CAROL' };
  /** Everything the adapter logged. */
  const logged: Record<string, unknown>[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db, { PRESETS_DIR });
    slack = new FakeSlack(TOKEN, alice.teamId);
    await slack.start();
    slack.users.set(alice.userId, {});
    slack.users.set(bob.userId, { is_admin: false });
    slack.users.set(carol.userId, { is_admin: true });
    const config = slackTestConfig(slack);
    const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    adapter = await startSlack(core, config, log);
    endpoint = `http://127.0.0.1:${adapter.port}/slack/events`;
    notifier = startNotifier(core, { slack: adapter.events });
  });

  afterAll(async () => {
    if (worker) await stopProcess(worker);
    await notifier?.stop();
    await adapter?.stop();
    await slack?.close();
    await core?.close();
    await db?.drop();
  });

  const post = (body: string, options: { timestamp?: number; signWith?: string } = {}) =>
    postSigned(endpoint, body, { secret: SECRET, ...options });
  const trigger = () => `trigger-${Math.random().toString(36).slice(2)}`;
  const command = (who: Who, name: string, text = '') =>
    post(slashCommand(who, name, text, { triggerId: trigger(), responseUrl: slack.responseUrl() }));
  const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
  const blocksText = (call: FakeCall) =>
    JSON.stringify(call.args.blocks ?? '') + String(call.args.text ?? '');

  /** Opens the /stylize form and returns the view Slack was asked to show. */
  async function openForm(who: Who): Promise<FormView> {
    const before = slack.callsOf('views.update').length;
    const response = await command(who, '/stylize');
    expect(response.status).toBe(200);
    const call = await slack.waitForCall(
      'views.update',
      (c) => slack.callsOf('views.update').indexOf(c) >= before && c.args.view_id !== undefined,
    );
    return call.args.view as FormView;
  }

  const fileValue = (id: string) => ({ value: { type: 'file_input', files: [slack.fileObject(id)] } });
  const selectValue = (value: string) => ({
    value: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } },
  });

  /** Submits the form; resolves with the ack's body and, once posted, the job's thread. */
  async function submitForm(
    who: Who,
    view: FormView,
    given: Record<string, Record<string, Record<string, unknown>>>,
  ) {
    const viewId = `V${Math.random().toString(36).slice(2)}`;
    const blocks = view.blocks;
    const response = await post(
      viewSubmission(
        who,
        {
          id: viewId,
          callback_id: view.callback_id,
          private_metadata: view.private_metadata,
          blocks,
        },
        formState(blocks, given),
      ),
    );
    return { response, viewId };
  }

  /** The job a submitted form started: from the form's final message, then its messages in the fake. */
  async function jobOf(viewId: string) {
    const outcome = await slack.waitForCall(
      'views.update',
      (c) => c.args.view_id === viewId && /job \d+/.test(JSON.stringify(c.args.view)),
    );
    const jobId = Number(/job (\d+)/.exec(JSON.stringify(outcome.args.view))![1]);
    const row = await job(jobId);
    const parent = row.threadId!;
    const progress = await slack.waitForCall(
      'chat.postMessage',
      (c) => c.args.thread_ts === parent && /stylize_cancel/.test(JSON.stringify(c.args.blocks)),
    );
    const progressTs = JSON.parse(row.chatRefs!).progressTs as string;
    return { jobId, parent, progressTs, progress };
  }

  it('refuses requests with a bad signature or an old timestamp (401), before any listener runs', async () => {
    const body = slashCommand(alice, '/stylize', '', {
      triggerId: trigger(),
      responseUrl: slack.responseUrl(),
    });
    expect((await post(body, { signWith: 'not-the-secret' })).status).toBe(401);
    expect((await post(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    const unsigned = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(unsigned.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slack.callsOf('views.open')).toHaveLength(0);
    expect(slack.responses).toHaveLength(0);
  });

  it('/stylize opens the form: photo upload, a painting search, a style upload, strength, size, iterations, colours', async () => {
    const view = await openForm(alice);
    expect(view.callback_id).toBe('stylize_modal');
    expect(JSON.parse(String(view.private_metadata))).toEqual({ c: alice.channelId });
    const blocks = new Map(view.blocks.map((b) => [b.block_id, b]));
    const block = (id: string): FormBlock => blocks.get(id)!;
    const element = (id: string) => block(id).element!;
    expect(element('content')).toMatchObject({ type: 'file_input', max_files: 1 });
    expect(element('content').filetypes).toEqual([
      'jpg',
      'jpeg',
      'png',
      'webp',
      'gif',
      'avif',
      'tiff',
      'tif',
    ]);
    expect(block('content').optional).toBe(false);
    // Options are loaded as the member types, so any number of presets fit (a static select takes 100).
    expect(element('preset')).toMatchObject({ type: 'external_select', min_query_length: 0 });
    expect(element('preset').options).toBeUndefined();
    expect(element('style').type).toBe('file_input');
    expect(element('strength')).toMatchObject({ type: 'number_input', min_value: '0', max_value: '100' });
    expect(element('size').options!.map((o) => o.value)).toEqual(['24', '32']);
    expect(element('size').initial_option).toMatchObject({ value: '32' });
    // The operator's limit (QUOTA_MAX_ITERATIONS, 500 by default) and the deployment's default (2).
    expect(element('iterations')).toMatchObject({
      type: 'number_input',
      min_value: '1',
      max_value: '500',
      initial_value: '2',
    });
    expect(element('options').type).toBe('checkboxes');
    expect(slack.callsOf('views.open').every((c) => c.authorized)).toBe(true);
  });

  it('finds paintings by title, artist or name as the member types, and shows them by title', async () => {
    const view = await openForm(alice);
    const search = async (value: string) => {
      const response = await post(
        blockSuggestion(
          alice,
          { id: 'VSEARCH', callback_id: view.callback_id },
          { block_id: 'preset', action_id: 'value' },
          value,
        ),
      );
      expect(response.status).toBe(200);
      return (response.json() as { options: { text: { text: string }; value: string }[] }).options;
    };
    expect(await search('gogh')).toEqual([
      {
        text: { type: 'plain_text', text: 'The Starry Night — Vincent van Gogh, 1889', emoji: true },
        value: 'starry_night',
      },
    ]);
    expect((await search('MUNCH')).map((o) => o.value)).toEqual(['the_scream']);
    expect((await search('woman-with')).map((o) => o.value)).toEqual(['woman-with-hat-matisse']);
    expect((await search('minotaur')).map((o) => o.value)).toEqual(['shipwreck']);
    // Everything, in the order of the titles, when nothing is typed yet.
    expect((await search('')).map((o) => o.text.text)).toEqual([
      'The Scream — Edvard Munch, 1893',
      'The Shipwreck of the Minotaur — J. M. W. Turner, c. 1810',
      'The Starry Night — Vincent van Gogh, 1889',
      'Woman with a Hat — Henri Matisse, 1905',
    ]);
    expect(await search('rembrandt')).toEqual([]);
  });

  it('sends an invalid form back with errors (neither a preset nor a style image)', async () => {
    const view = await openForm(alice);
    const photo = slack.addFile('photo.png', await picture(1));
    const posts = slack.callsOf('chat.postMessage').length;
    const { response } = await submitForm(alice, view, { content: fileValue(photo) });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({
      response_action: 'errors',
      errors: { preset: 'Choose a painting, or upload a style image below.' },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(slack.callsOf('chat.postMessage')).toHaveLength(posts);
  });

  it('queues a job from the form, refuses Cancel from another member, and cancels it for its requester', async () => {
    // No worker yet: the job stays queued.
    const view = await openForm(alice);
    const photo = slack.addFile('photo.png', await picture(1));
    const { response, viewId } = await submitForm(alice, view, {
      content: fileValue(photo),
      preset: selectValue('starry_night'),
      size: selectValue('24'),
    });
    expect(response.json()).toMatchObject({ response_action: 'update' });
    const { jobId, parent, progressTs, progress } = await jobOf(viewId);

    const request = slack.callsOf('chat.postMessage').find((c) => c.result?.ts === parent);
    expect(request?.args).toMatchObject({ channel: alice.channelId });
    expect(request?.args.thread_ts).toBeUndefined();
    expect(progress.args.channel).toBe(alice.channelId);
    expect(blocksText(progress)).toMatch(/queue/);
    const row = await job(jobId);
    expect(row.channelId).toBe(alice.channelId);
    expect(row.requesterId).toBe(alice.userId);
    expect(row.status).toBe('queued');
    expect(JSON.parse(row.options)).toMatchObject({ size: 24, iterations: 2, layers: 'shallow' });
    // The photo was fetched with the bot token from the file host.
    expect(slack.downloads.some((d) => d.path.includes(photo) && d.authorized)).toBe(true);
    // The request message became the job's.
    await slack.waitForCall(
      'chat.update',
      (c) => c.args.ts === parent && /The Starry Night — Vincent van Gogh, 1889/.test(blocksText(c)),
    );

    const cancel = { action_id: 'stylize_cancel', value: String(jobId) };
    await post(blockAction(bob, { ts: progressTs }, cancel, slack.responseUrl()));
    const refusal = await slack.waitForResponse((b) => /Only the member who asked/.test(String(b.text)));
    expect(refusal.response_type).toBe('ephemeral');
    expect(slack.callsOf('users.info').some((c) => c.args.user === bob.userId)).toBe(true);
    expect((await job(jobId)).status).toBe('queued');

    await post(blockAction(alice, { ts: progressTs }, cancel, slack.responseUrl()));
    await slack.waitForResponse((b) => b.text === `Job ${jobId} is cancelled.`);
    expect((await job(jobId)).status).toBe('cancelled');
    await slack.waitForCall(
      'chat.update',
      (c) => c.args.ts === progressTs && /cancelled/.test(blocksText(c)),
    );
  });

  /** Runs /stylize-admin as carol (a workspace admin) and waits for its answer. */
  async function admin(who: Who, text: string): Promise<string> {
    const before = slack.responses.length;
    await command({ ...who, userId: carol.userId }, '/stylize-admin', text);
    const deadline = Date.now() + 10_000;
    while (slack.responses.length === before) {
      if (Date.now() > deadline) throw new Error(`no answer to /stylize-admin ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return String(slack.responses.at(-1)!.body.text);
  }

  /** The next form update of a submitted view: its text. */
  const outcomeOf = async (viewId: string, match: RegExp) =>
    JSON.stringify(
      (
        await slack.waitForCall(
          'views.update',
          (c) => c.args.view_id === viewId && match.test(JSON.stringify(c.args.view)),
        )
      ).args.view,
    );

  /** Calls and downloads since a mark: what a refused request must not have made. */
  const mark = () => ({ calls: slack.calls.length, downloads: slack.downloads.length });
  const since = (at: ReturnType<typeof mark>) => ({
    posted: slack.calls.slice(at.calls).filter((c) => c.method === 'chat.postMessage'),
    looked: slack.calls.slice(at.calls).filter((c) => c.method === 'files.info'),
    downloads: slack.downloads.slice(at.downloads),
  });

  it('offers only the sizes and iterations the workspace allows, and accepts a request left at its defaults', async () => {
    const dave: Who = { teamId: 'T0LIMITS', userId: 'U0DAVE', channelId: 'C0LIMITS' };
    expect(await admin(dave, 'quota set max_size=28 max_iterations=1')).toMatch(/^Done\./);
    const view = await openForm(dave);
    const element = (id: string) => view.blocks.find((b) => b.block_id === id)!.element!;
    // 32 is over the limit; 28, the limit, is offered instead and preselected; the default 2 iterations is lowered.
    expect(element('size').options!.map((o) => o.value)).toEqual(['24', '28']);
    expect(element('size').initial_option).toMatchObject({ value: '28' });
    expect(element('iterations')).toMatchObject({ max_value: '1', initial_value: '1' });

    const photo = slack.addFile('photo.png', await picture(8));
    const { viewId } = await submitForm(dave, view, {
      content: fileValue(photo),
      preset: selectValue('starry_night'),
    });
    const { jobId } = await jobOf(viewId);
    expect(JSON.parse((await job(jobId)).options)).toMatchObject({ size: 28, iterations: 1 });
    await post(
      blockAction(
        dave,
        { ts: '1.1' },
        { action_id: 'stylize_cancel', value: String(jobId) },
        slack.responseUrl(),
      ),
    );
    await slack.waitForResponse((b) => b.text === `Job ${jobId} is cancelled.`);

    // A form filled in before the limits changed, or asking for more: refused in the form, nothing posted or fetched.
    const at = mark();
    const more = await submitForm(dave, view, {
      content: fileValue(photo),
      preset: selectValue('starry_night'),
      iterations: { value: { type: 'number_input', value: '5' } },
      size: selectValue('32'),
    });
    expect(more.response.json()).toEqual({
      response_action: 'errors',
      errors: { size: 'The largest painting on this workspace is 28 px; ask for 28 px or less.' },
    });
    const iterations = await submitForm(dave, view, {
      content: fileValue(photo),
      preset: selectValue('starry_night'),
      iterations: { value: { type: 'number_input', value: '5' } },
    });
    expect(iterations.response.json()).toEqual({
      response_action: 'errors',
      errors: { iterations: 'This workspace allows at most 1 iteration; ask for 1 or fewer.' },
    });
    const stale = await submitForm(dave, view, { content: fileValue(photo), preset: selectValue('gone') });
    expect(stale.response.json()).toMatchObject({
      response_action: 'errors',
      errors: { preset: expect.stringMatching(/^There is no painting called "gone" here/) },
    });
    expect(since(at)).toEqual({ posted: [], looked: [], downloads: [] });
  });

  it('refuses before anything is public: a daily limit when the form opens or is sent, in the member’s own time', async () => {
    const erin: Who = { teamId: 'T0QUOTA', userId: 'U0ERIN', channelId: 'C0QUOTA' };
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const reset =
      `The limit resets <!date^${midnight.getTime() / 1000}^{date_short_pretty} at {time}|` +
      `${midnight.toISOString().slice(0, 10)} 00:00 UTC>.`;

    expect(await admin(erin, 'quota set server_daily=0')).toMatch(/^Done\./);
    const at = mark();
    const closed = await openForm(erin);
    expect(closed.callback_id).toBeUndefined();
    expect(JSON.stringify(closed.blocks)).toContain(
      JSON.stringify(`This workspace has had its 0 paintings for today. ${reset}`).slice(1, -1),
    );

    // The form was open when the member's own limit was reached: the submission is refused in the form.
    await admin(erin, 'quota set server_daily=default');
    const view = await openForm(erin);
    expect(view.callback_id).toBe('stylize_modal');
    await admin(erin, 'quota set member_daily=0');
    const photo = slack.addFile('photo.png', await picture(9));
    const { response, viewId } = await submitForm(erin, view, {
      content: fileValue(photo),
      preset: selectValue('shipwreck'),
    });
    expect(response.json()).toMatchObject({ response_action: 'update' });
    expect(JSON.stringify(response.json())).toContain(
      JSON.stringify(`You have had your 0 paintings for today. ${reset}`).slice(1, -1),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(slack.callsOf('views.update').some((c) => c.args.view_id === viewId)).toBe(false);

    // A HEIC photo is refused from Slack's metadata, before it is downloaded.
    await admin(erin, 'quota set member_daily=default');
    const heic = slack.addFile('IMG_0001.HEIC', Buffer.from('not decoded'), 'image/heic');
    const { viewId: heicView } = await submitForm(erin, await openForm(erin), {
      content: fileValue(heic),
      preset: selectValue('shipwreck'),
    });
    expect(await outcomeOf(heicView, /HEIC/)).toContain('That is a HEIC photo, which I can');
    expect(since(at)).toMatchObject({ posted: [], downloads: [] });
  });

  it('reports a file Slack will not hand over as the bot’s problem: its likely cause to the member, a log line and a metric to the operator', async () => {
    const faults = (reason: string) => downloadFaultCount('slack', reason);
    const before = { page: await faults('web_page'), refused: await faults('refused') };
    const at = mark();
    const photo = slack.addFile('photo.png', await picture(10));
    slack.refusedFiles.set(photo, 'sign-in-page');
    const { viewId } = await submitForm(alice, await openForm(alice), {
      content: fileValue(photo),
      preset: selectValue('shipwreck'),
    });
    const shown = await outcomeOf(viewId, /sent a web page/);
    expect(shown).toContain(OPERATOR_FAULT_TEXT);
    expect(shown).toContain(
      'Slack sent a web page instead of \\"photo.png\\" (likely the bot token has expired or lacks the files:read scope',
    );
    expect(await faults('web_page')).toBe(before.page + 1);
    const line = logged.find((l) => l.reason === 'web_page');
    expect(line).toMatchObject({
      msg: "slack: a member's file came back as something other than the file",
      platform: 'slack',
      host: new URL(slack.url).host,
      cause: expect.stringMatching(/^Slack sent a web page instead of "photo.png" \(likely .*files:read/),
    });

    const forbidden = slack.addFile('photo.png', await picture(11));
    slack.refusedFiles.set(forbidden, 403);
    const { viewId: refusedView } = await submitForm(alice, await openForm(alice), {
      content: fileValue(forbidden),
      preset: selectValue('shipwreck'),
    });
    expect(await outcomeOf(refusedView, /HTTP 403/)).toContain('Slack refused to give me');
    expect(await faults('refused')).toBe(before.refused + 1);
    // Nothing was posted in the channel, and the token is in no log line.
    expect(since(at).posted).toEqual([]);
    expect(JSON.stringify(logged)).not.toContain(TOKEN);
  });

  it('shows why a job could not start in the form: a file found no image, or too long and narrow, once downloaded and before anything is posted', async () => {
    const posts = slack.callsOf('chat.postMessage').length;
    const notImage = slack.addFile('notes.png', Buffer.from('these are notes, not a picture'));
    const strip = slack.addFile('strip.png', await picture(6, 1, 500));
    for (const [file, why] of [
      [notImage, /not an image I can read/],
      [
        strip,
        /Your photo is too long and narrow for me to paint \(1×500 pixels, about 500:1\): at 32 px I can paint shapes up to about 8:1\. Crop it to at most 8:1 and send it again\./,
      ],
    ] as const) {
      const { viewId } = await submitForm(alice, await openForm(alice), {
        content: fileValue(file),
        preset: selectValue('shipwreck'),
      });
      const outcome = await slack.waitForCall(
        'views.update',
        (c) => c.args.view_id === viewId && why.test(JSON.stringify(c.args.view)),
      );
      expect(outcome.authorized).toBe(true);
    }
    expect(slack.callsOf('chat.postMessage')).toHaveLength(posts);
    expect(await core.db.prisma.job.count({ where: { status: 'queued' } })).toBe(0);

    const closed: Who = { ...alice, channelId: 'C0PRIVATE' };
    slack.closedChannels.add(closed.channelId);
    const { viewId: closedView } = await submitForm(alice, await openForm(closed), {
      content: fileValue(slack.addFile('photo.png', await picture(7))),
      preset: selectValue('shipwreck'),
    });
    await slack.waitForCall(
      'views.update',
      (c) => c.args.view_id === closedView && /Invite me there/.test(JSON.stringify(c.args.view)),
    );
  });

  it('paints a job: progress edits the thread’s message, then the painting and the side-by-side in the thread', async () => {
    worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_BACKEND: 'wasm' }));
    const view = await openForm(alice);
    const photo = slack.addFile('tubingen.png', await picture(3, 48, 36));
    const { viewId } = await submitForm(alice, view, {
      content: fileValue(photo),
      preset: selectValue('the_scream'),
      strength: { value: { type: 'number_input', value: '70' } },
      size: selectValue('24'),
    });
    const { jobId, parent, progressTs } = await jobOf(viewId);

    const complete = await slack.waitForCall(
      'files.completeUploadExternal',
      (c) => c.args.thread_ts === parent && (c.args.files as unknown[]).length === 2,
      60_000,
    );
    expect(complete.args.channel_id).toBe(alice.channelId);
    expect(String(complete.args.initial_comment)).toContain(`<@${alice.userId}>`);
    const [result, side] = (complete.args.files as { id: string }[]).map((f) => slack.uploads.get(f.id)!);
    const resultMeta = await sharp(result!.bytes).metadata();
    expect(Math.max(resultMeta.width, resultMeta.height)).toBe(24);
    const sideMeta = await sharp(side!.bytes).metadata();
    expect(sideMeta.width).toBeGreaterThan(2 * resultMeta.width);
    expect(result!.filename).toBe(`painting-${jobId}.png`);

    const edits = slack.callsOf('chat.update').filter((c) => c.args.ts === progressTs);
    expect(edits.some((c) => /Painting job/.test(blocksText(c)))).toBe(true);
    const doneMessage = await slack.waitForCall(
      'chat.update',
      (c) => c.args.ts === progressTs && /is done/.test(blocksText(c)),
    );
    expect((await job(jobId)).status).toBe('succeeded');
    expect(JSON.parse((await job(jobId)).chatRefs!)).toMatchObject({ progressTs, done: true });

    // Timelapse, pressed by another member: the animated GIF in the job's thread, the photo and each of the two
    // iterations at the result's size (24 px), 100 ms each, then the result held for 2 s (the stored WebP shows
    // a frame identical to the one before as one longer frame: the playing time tells that all are there).
    expect(blocksText(doneMessage)).toContain('stylize_timelapse');
    const timelapse = { action_id: 'stylize_timelapse', value: String(jobId) };
    await post(blockAction(bob, { ts: progressTs }, timelapse, slack.responseUrl()));
    const shared = await slack.waitForCall(
      'files.completeUploadExternal',
      (c) => c.args.thread_ts === parent && JSON.stringify(c.args.files).includes('timelapse'),
    );
    expect(shared.args.channel_id).toBe(alice.channelId);
    const [animation] = (shared.args.files as { id: string }[]).map((f) => slack.uploads.get(f.id)!);
    expect(animation!.filename).toBe(`timelapse-${jobId}.gif`);
    const gif = await sharp(animation!.bytes, { animated: true }).metadata();
    expect(gif).toMatchObject({ format: 'gif', width: 24, pageHeight: 18, loop: 0 });
    expect(gif.pages).toBeGreaterThanOrEqual(2);
    expect(gif.pages).toBeLessThanOrEqual(3);
    expect(gif.delay!.reduce((a, b) => a + b, 0)).toBe(2 * 100 + 2000);

    // After the retention period: the member is told, alone, that it is no longer kept.
    await notifier.drain();
    const finishedAt = (await job(jobId)).finishedAt!;
    await purgeExpired(core, new Date(finishedAt.getTime() + core.config.jobs.retentionMs + 1));
    await post(blockAction(bob, { ts: progressTs }, timelapse, slack.responseUrl()));
    const gone = await slack.waitForResponse((b) => /no longer kept/.test(String(b.text)));
    expect(gone.response_type).toBe('ephemeral');
    expect(gone.text).toBe(
      `The timelapse of painting #${jobId} is no longer kept: its images were deleted after the retention period.`,
    );
  });

  it('the message shortcut opens the form with the message’s image, and its submission paints that image', async () => {
    const photo = slack.addFile('holiday.png', await picture(4, 40, 40));
    const style = slack.addFile('my style.png', await picture(5, 40, 40));
    await post(
      messageShortcut(
        alice,
        'stylize_this_image',
        { ts: '1700000000.000100', files: [slack.fileObject(photo)] },
        { triggerId: trigger(), responseUrl: slack.responseUrl() },
      ),
    );
    const open = await slack.waitForCall('views.update', (c) =>
      JSON.stringify(c.args.view).includes('holiday.png'),
    );
    const view = open.args.view as FormView;
    expect(JSON.parse(view.private_metadata)).toMatchObject({ c: alice.channelId, f: photo });
    expect(view.blocks[0]!.type).toBe('context');
    expect(view.blocks.find((b) => b.block_id === 'content')!.optional).toBe(true);

    const { viewId } = await submitForm(alice, view, { style: fileValue(style), size: selectValue('24') });
    const { jobId, parent } = await jobOf(viewId);
    expect(slack.downloads.some((d) => d.path.includes(photo))).toBe(true);
    expect(slack.downloads.some((d) => d.path.includes(style))).toBe(true);
    await slack.waitForCall(
      'files.completeUploadExternal',
      (c) => c.args.thread_ts === parent && (c.args.files as unknown[]).length === 2,
      60_000,
    );
    expect((await job(jobId)).styleRefs).toContain('my style');
  });

  it('/stylize-admin refuses members who are not workspace admins, and works for admins', async () => {
    await command(bob, '/stylize-admin', 'quota set member_daily=0');
    const refusal = await slack.waitForResponse((b) => /Only the admins and owners/.test(String(b.text)));
    expect(refusal.response_type).toBe('ephemeral');

    const done = await admin(alice, 'quota set member_daily=5 max_size=default');
    expect(done).toMatch(/^Done\. [\s\S]*`member_daily` = 5\n/);
    const server = await core.db.prisma.server.findFirstOrThrow({
      where: { platform: 'slack', externalId: alice.teamId },
    });
    expect(server.memberDailyJobs).toBe(5);

    // Every limit, and back to the operator's default.
    const all = await admin(
      alice,
      'quota set server_daily=50 member_daily=4 member_concurrent=2 max_size=400 max_iterations=300 server_running=3 member_running=2',
    );
    for (const line of [
      '`server_daily` = 50\n',
      '`member_daily` = 4\n',
      '`member_concurrent` = 2\n',
      '`max_size` = 400\n',
      '`max_iterations` = 300\n',
      '`server_running` = 3\n',
      '`member_running` = 2',
    ]) {
      expect(all).toContain(line);
    }
    const back = await admin(
      alice,
      'quota set server_daily=default member_daily=default member_concurrent=default max_size=default max_iterations=default server_running=default member_running=default',
    );
    expect(back.match(/\(default\)/g)).toHaveLength(7);
    expect(await admin(alice, 'quota set max_size=8')).toBe('`max_size` is a whole number from 16 to 4096.');

    // The bot's own presets cannot be removed by a workspace, and the admin is told so.
    expect(await admin(alice, 'preset remove starry_night')).toBe(
      '"starry_night" comes with the bot: the people running it installed it, so a workspace can’t remove it. ' +
        'A preset of this workspace’s own called "starry_night" would replace it here.',
    );
    expect(await admin(alice, 'preset remove nothing_here')).toBe(
      'This workspace has no preset called "nothing_here".',
    );

    await command(carol, '/stylize-admin', 'preset add monet');
    const form = await slack.waitForCall('views.open', (c) =>
      JSON.stringify(c.args.view).includes('stylize_preset_modal'),
    );
    expect(JSON.stringify(form.args.view)).toContain('"initial_value":"monet"');
  });

  /** `/stylize history` as `who`: the answer posted to the command's response_url. */
  async function history(who: Who): Promise<Record<string, unknown>> {
    const responseUrl = slack.responseUrl();
    const id = responseUrl.split('/').at(-1);
    expect(
      (await post(slashCommand(who, '/stylize', 'history', { triggerId: trigger(), responseUrl }))).status,
    ).toBe(200);
    return waitFor('the history', async () => slack.responses.find((r) => r.id === id)?.body);
  }

  it('/stylize history lists the member’s own paintings to them alone, linked to their threads', async () => {
    const jobs = await core.db.prisma.job.findMany({
      where: { requesterId: alice.userId },
      orderBy: { id: 'desc' },
      take: 10,
    });
    const painted = jobs.find((j) => j.status === 'succeeded')!;
    const cancelled = jobs.find((j) => j.status === 'cancelled')!;
    expect(painted).toBeDefined();
    expect(cancelled).toBeDefined();

    const answer = await history(alice);
    expect(answer.response_type).toBe('ephemeral');
    const lines = String(answer.text).split('\n');
    expect(lines[0]).toMatch(/^\*Your last \d+ paintings in this workspace\*, newest first:$/);
    expect(lines.slice(1).map((l) => Number(/^• Job (\d+) · /.exec(l)?.[1]))).toEqual(jobs.map((j) => j.id));
    const line = (id: number, text: string) => text.split('\n').find((l) => l.startsWith(`• Job ${id} · `))!;
    expect(line(painted.id, String(answer.text))).toContain(
      `done <!date^${Math.floor(painted.finishedAt!.getTime() / 1000)}^`,
    );
    expect(line(painted.id, String(answer.text))).toMatch(
      new RegExp(
        `· <${slack.permalink(alice.channelId, painted.threadId!)}\\|see the painting in its thread>$`,
      ),
    );
    expect(line(cancelled.id, String(answer.text))).toMatch(
      new RegExp(
        `cancelled <!date[^>]*> · <${slack.permalink(alice.channelId, cancelled.threadId!)}\\|open the thread>$`,
      ),
    );
    expect(slack.callsOf('chat.getPermalink').every((c) => c.authorized)).toBe(true);

    // Once retention has deleted its images, the painting's line says so.
    await notifier.drain();
    await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 1000));
    const later = line(painted.id, String((await history(alice)).text));
    expect(later).toMatch(/ \(no longer kept\) · <[^|]+\|open the thread>$/);

    const none = await history({ ...alice, userId: 'U0DAN' });
    expect(none).toMatchObject({
      response_type: 'ephemeral',
      text: 'You have no paintings in this workspace yet. Start one with `/stylize`.',
    });
  });

  it('paints each variation button’s job in the painting’s thread; refuses others, limits and gone images', async () => {
    worker ??= spawnProcess('worker/main.ts', testEnv(db, { WORKER_BACKEND: 'wasm' }));
    const server = { platform: 'slack' as const, id: alice.teamId };
    const ADMIN = { userId: 'admin', isAdmin: true };
    await setLimits(core, server, { memberDailyJobs: 100 }, ADMIN);
    const view = await openForm(alice);
    const photo = slack.addFile('photo.png', await picture(6, 48, 36));
    const { viewId } = await submitForm(alice, view, {
      content: fileValue(photo),
      preset: selectValue('starry_night'),
      size: selectValue('24'),
    });
    const { jobId: parentId, parent: threadTs, progressTs } = await jobOf(viewId);
    const done = await slack.waitForCall(
      'chat.update',
      (c) => c.args.ts === progressTs && /is done/.test(blocksText(c)),
      60_000,
    );
    const buttons = (
      done.args.blocks as {
        type: string;
        elements?: { action_id: string; value: string; text: { text: string } }[];
      }[]
    )
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements!);
    expect(buttons.map((b) => [b.action_id, b.text.text, b.value])).toEqual([
      ['stylize_vary_more-style', 'More style', String(parentId)],
      ['stylize_vary_less-style', 'Less style', String(parentId)],
      ['stylize_vary_colours', 'Keep my colours', String(parentId)],
      ['stylize_vary_larger', 'Larger', String(parentId)],
      ['stylize_timelapse', 'Timelapse', String(parentId)],
      ['stylize_delete', 'Delete', String(parentId)],
    ]);
    const parentRow = await job(parentId);
    const parentOptions = JSON.parse(parentRow.options);

    const press = (who: Who, kind: string, jobId = parentId) =>
      post(
        blockAction(
          who,
          { ts: progressTs },
          { action_id: `stylize_vary_${kind}`, value: String(jobId) },
          slack.responseUrl(),
        ),
      );
    const answer = async (match: RegExp) => {
      const body = await slack.waitForResponse((b) => match.test(String(b.text)), 10_000);
      expect(body.response_type).toBe('ephemeral');
      return String(body.text);
    };
    /** A press that queued a variation: its job, once its painting is in the thread. */
    async function varied(who: Who, kind: string) {
      const before = slack.responses.length;
      await press(who, kind);
      const text = await waitFor('the answer', async () =>
        slack.responses
          .slice(before)
          .map((r) => String(r.body.text))
          .find((t) => /Your variation is job \d+/.test(t)),
      );
      const jobId = Number(/job (\d+)/.exec(text)![1]);
      const row = await job(jobId);
      expect(row.threadId).toBe(threadTs);
      const progress = await slack.waitForCall(
        'chat.postMessage',
        (c) => c.args.thread_ts === threadTs && new RegExp(`Job ${jobId} \\(`).test(blocksText(c)),
      );
      expect(JSON.parse((await job(jobId)).chatRefs!).progressTs).toBe(progress.result!.ts);
      const complete = await slack.waitForCall(
        'files.completeUploadExternal',
        (c) =>
          c.args.thread_ts === threadTs &&
          (c.args.files as { id: string }[]).some(
            (f) => slack.uploads.get(f.id)?.filename === `painting-${jobId}.png`,
          ),
        60_000,
      );
      const [result] = (complete.args.files as { id: string }[]).map((f) => slack.uploads.get(f.id)!);
      return { jobId, row, result: await sharp(result!.bytes).metadata() };
    }

    // Bob may not; Carol, an admin, may (the variation is then hers).
    await press(bob, 'more-style');
    await answer(new RegExp(`^Only the member who asked for painting #${parentId}, or an admin`));
    const less = await varied(carol, 'less-style');
    expect(less.row.requesterId).toBe(carol.userId);
    expect(JSON.parse(less.row.options)).toEqual({ ...parentOptions, strength: parentOptions.strength - 25 });

    const larger = await varied(alice, 'larger');
    expect(larger.row).toMatchObject({ size: 36, startRef: parentRow.resultRef, variation: 'larger' });
    expect(Math.max(larger.result.width, larger.result.height)).toBe(36);
    const colours = await varied(alice, 'colours');
    expect(JSON.parse(colours.row.options)).toMatchObject({ preserveColors: true, size: 24 });
    const more = await varied(alice, 'more-style');
    expect(JSON.parse(more.row.options).strength).toBe(parentOptions.strength + 25);

    // A daily limit reached: told to Alice alone, with when it resets.
    const used = await core.db.prisma.usage.count({ where: { requesterId: alice.userId, refundedAt: null } });
    await setLimits(core, server, { memberDailyJobs: used }, ADMIN);
    await press(alice, 'more-style');
    await answer(new RegExp(`^You have had your ${used} paintings for today\\. The limit resets <!date\\^`));
    await setLimits(core, server, { memberDailyJobs: null }, ADMIN);

    // Once retention has deleted the painting's images, the buttons say so.
    await waitFor('every end posted', async () =>
      (await core.db.prisma.job.count({
        where: { OR: [{ eventPending: true }, { deliveringAt: { not: null } }] },
      })) === 0
        ? true
        : undefined,
    );
    await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 60_000));
    await press(alice, 'colours');
    await answer(new RegExp(`^The photo and painting of #${parentId} are no longer kept`));
  }, 180_000);
});
