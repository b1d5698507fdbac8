/**
 * The Discord adapter end to end: the real discord.js client (startDiscord) against the fake Discord server,
 * the real core on SQLite, the bot's notifier, and a real worker loop in this process painting tiny jobs
 * (24 px, shallow layers of the real weights).
 */
import type { APIInteraction, APIMessage } from 'discord-api-types/v10';
import { InteractionType, MessageFlags } from 'discord-api-types/v10';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverChoiceCache } from '../chat/preset-choices.ts';
import { decodeRefs } from '../chat/refs.ts';
import { type DiscordAdapter, startDiscord } from '../discord/index.ts';
import { OPERATOR_FAULT_TEXT } from '../lib/member-error.ts';
import type { Core, Notifier } from '../rules/index.ts';
import { purgeExpired, setLimits, startNotifier } from '../rules/index.ts';
import { type RunningWorker, startWorker } from '../worker/loop.ts';
import { Painter } from '../worker/paint.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';
import type { FakeDiscord, InjectedInteraction, RecordedRequest } from './discord/fake-discord.ts';
import { downloadFaultCount } from './download-faults.ts';
import {
  createTestDatabase,
  failWrites,
  picture,
  type TestDatabase,
  testCore,
  waitFor,
} from './job-system.ts';
import { discordTestConfig, startFakeDiscord } from './platforms.ts';

const EDIT_ORIGINAL = 'PATCH /webhooks/:applicationId/:token/messages/:messageId';
const FOLLOWUP = 'POST /webhooks/:applicationId/:token';
const START_THREAD = 'POST /channels/:channelId/messages/:messageId/threads';
const SEND = 'POST /channels/:channelId/messages';
const EDIT = 'PATCH /channels/:channelId/messages/:messageId';

let fake: FakeDiscord;
let db: TestDatabase;
let core: Core;
let bot: DiscordAdapter;
let notifier: Notifier;
let painter: Painter | undefined;
let worker: RunningWorker | undefined;
/** Everything the adapter logged, to check that no token or attachment URL is ever in it. */
const logged: string[] = [];

beforeAll(async () => {
  fake = await startFakeDiscord();
  db = await createTestDatabase('sqlite');
  core = await testCore(db, { PRESETS_DIR: asset('styles'), QUOTA_MAX_ITERATIONS: '1000' });
  const config = discordTestConfig(fake);
  const log = pino({ level: 'debug' }, { write: (line: string) => logged.push(line) });
  bot = await startDiscord(core, config, log, {
    jobDefaults: { size: 24, iterations: 2, layers: 'shallow' },
  });
  notifier = startNotifier(core, { discord: bot.events });
});

afterAll(async () => {
  await worker?.stop();
  painter?.dispose();
  await notifier?.stop();
  await bot?.stop();
  await core?.close();
  await db?.drop();
  await fake?.close();
});

/** The worker starts late, so the first job's reply shows it waiting in the queue. */
function startPainting(): void {
  if (worker) return;
  painter = new Painter({ weightsDir: SHALLOW_WEIGHTS, backend: 'wasm' });
  worker = startWorker(core, painter);
}

const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
const latestJobId = async () =>
  (await core.db.prisma.job.findFirstOrThrow({ orderBy: { id: 'desc' }, select: { id: true } })).id;

/** What the interaction answered: its callback, then (for a deferred one) the edit of its reply. */
async function ephemeralAnswer(sent: InjectedInteraction): Promise<string> {
  const callback = await fake.waitForCallback(sent);
  const body = callback.body as { type: number; data?: { flags?: number; content?: string } };
  expect(body.data?.flags ?? 0).toBe(MessageFlags.Ephemeral);
  if (body.type === 4) return body.data?.content ?? '';
  expect(body.type).toBe(5);
  await waitFor('the deferred answer', async () =>
    fake.originalMessage(sent)?.flags !== undefined &&
    (fake.originalMessage(sent)!.flags! & MessageFlags.Loading) === 0
      ? true
      : undefined,
  );
  return fake.originalMessage(sent)!.content;
}

const filesOf = (request: RecordedRequest) => request.files;

/**
 * Bob's /stylize with these options, refused by the command's own answer (ephemeral: no public "thinking…" reply)
 * before the photo is downloaded. Returns what the answer says.
 */
async function refusedAtOnce(options: Record<string, string | number>): Promise<string> {
  const mark = fake.mark();
  const sent = await fake.sendSlashCommand({
    name: 'stylize',
    options: { image: { filename: 'photo.png', bytes: await picture(4) }, ...options },
    user: fake.users.bob,
  });
  const callback = await fake.waitForCallback(sent);
  expect(callback.body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
  expect(fake.filter('GET /cdn/*', mark)).toEqual([]);
  return (callback.body as { data: { content: string } }).data.content;
}

/** Bob's /stylize with `style` and nothing else: its reply deferred, then the id of the job it queued. */
async function queued(style: string): Promise<number> {
  const before = await latestJobId();
  const sent = await fake.sendSlashCommand({
    name: 'stylize',
    options: { image: { filename: 'photo.png', bytes: await picture(7) }, style },
    user: fake.users.bob,
  });
  expect((await fake.waitForCallback(sent)).body).toMatchObject({ type: 5 });
  return waitFor('the job', async () => ((await latestJobId()) > before ? latestJobId() : undefined));
}

/** The first test's painting, which the Timelapse tests press. */
let finished: { jobId: number; threadId: string; finalId: string } | undefined;
const pressTimelapse = (user = fake.users.bob) =>
  fake.sendButton({
    customId: `stylize:timelapse:${finished!.jobId}`,
    message: { id: finished!.finalId, channel_id: finished!.threadId },
    user,
  });

describe('Discord bot: /stylize', () => {
  /** The first job's final message, for the Timelapse button. */

  it('defers first, queues, threads, shows progress and posts the two images', async () => {
    const photo = await picture(1, 40, 30);
    const sent = await fake.sendSlashCommand({
      name: 'stylize',
      options: {
        image: { filename: 'photo.png', bytes: photo, cdn: { delayMs: 300 } },
        style: 'starry_night',
        iterations: 25,
      },
    });

    // The deferred response (type 5, public) comes before the slow work: the download starts after it.
    const callback = await fake.waitForCallback(sent);
    expect(callback.body).toMatchObject({ type: 5 });
    expect(callback.at - fake.interaction(sent.id).createdAt).toBeLessThan(2_000); // Discord allows 3 s
    const download = await fake.waitFor('GET /cdn/*', 5_000, callback.seq);
    expect(download.seq).toBeGreaterThan(callback.seq);

    // The reply edited with the place in the queue (no worker yet, so no measured speed and no ready time).
    const queued = await fake.waitFor((r) => r.route === EDIT_ORIGINAL && r.params.token === sent.token);
    expect((queued.body as { content: string }).content).toMatch(/Queued: position 1 in the queue\.$/);
    const reply = fake.originalMessage(sent)!;

    // A thread on the reply, with the progress message and its Cancel button.
    const thread = await fake.waitFor(START_THREAD);
    expect(thread.params).toEqual({ channelId: fake.channelId, messageId: reply.id });
    const threadId = reply.id; // Discord gives a thread started on a message the message's id
    const progressPost = await fake.waitFor((r) => r.route === SEND && r.params.channelId === threadId);
    const progressId = (progressPost.response as APIMessage).id;
    const jobId = await latestJobId();
    expect(JSON.stringify((progressPost.body as { components: unknown }).components)).toContain(
      `stylize:cancel:${jobId}:${fake.users.alice.id}`,
    );
    await waitFor('the refs', async () => decodeRefs('discord', (await job(jobId)).chatRefs));
    const stored = await job(jobId);
    expect(stored.threadId).toBe(threadId);
    expect(decodeRefs('discord', stored.chatRefs)).toMatchObject({ replyId: reply.id, progressId, threadId });

    startPainting();
    // Progress: the same message edited in place, with the preview.
    const edit = await fake.waitFor(
      (r) => r.route === EDIT && r.params.messageId === progressId && r.files.length > 0,
      30_000,
    );
    expect(edit.status).toBe(200);
    expect((edit.body as { content: string }).content).toMatch(/iteration \d+\/25/);
    expect((await sharp(filesOf(edit)[0]!.bytes).metadata()).format).toBe('jpeg');

    // The final message in the thread: exactly two images that decode.
    const final = await fake.waitFor(
      (r) => r.route === SEND && r.params.channelId === threadId && r.files.length > 0,
      30_000,
    );
    expect(final.status).toBe(200);
    expect(final.files).toHaveLength(2);
    const [result, comparison] = await Promise.all(final.files.map((f) => sharp(f.bytes).metadata()));
    expect(['png', 'jpeg']).toContain(result!.format);
    expect(Math.max(result!.width, result!.height)).toBe(24);
    expect(comparison!.width).toBeGreaterThan(2 * result!.width);
    const finalId = (final.response as APIMessage).id;
    expect(JSON.stringify((final.body as { components: unknown }).components)).toContain(
      `stylize:timelapse:${jobId}`,
    );
    finished = { jobId, threadId, finalId };

    // The reply edited with the bot token (channel endpoint) to link to the images.
    const linked = await fake.waitFor(
      (r) => r.route === EDIT && r.params.messageId === reply.id && r.seq > final.seq,
    );
    expect(linked.headers.authorization).toBe(`Bot ${fake.token}`);
    expect(fake.message(reply.id)?.content).toContain(
      `https://discord.com/channels/${fake.guildId}/${threadId}/${finalId}`,
    );
    expect(fake.message(reply.id)?.components).toEqual([]);
    // The progress message is closed: no Cancel button any more.
    await waitFor('the progress message closed', async () =>
      fake.message(progressId)?.components?.length === 0 ? true : undefined,
    );
    expect((await job(jobId)).status).toBe('succeeded');
  });

  it('Timelapse: posts the animated WebP in the thread for anyone', async () => {
    const { jobId, threadId } = finished!;
    // Not the requester: the timelapse is for anyone in the thread.
    const sent = await pressTimelapse();
    const callback = await fake.waitForCallback(sent);
    expect(callback.body).toMatchObject({ type: 4 });
    expect(((callback.body as { data: { flags?: number } }).data.flags ?? 0) & MessageFlags.Ephemeral).toBe(
      0,
    );
    expect(callback.files).toHaveLength(1);
    expect(callback.files[0]!.filename).toBe(`timelapse-${jobId}.webp`);
    const posted = fake.originalMessage(sent)!;
    expect(posted.channel_id).toBe(threadId);
    expect(posted.content).toBe(`Painting #${jobId} from the photo to the result:`);
    // An animation at the result's size (24 px), from the photo through the iterations to the result.
    const animation = await sharp(callback.files[0]!.bytes, { animated: true }).metadata();
    expect(animation).toMatchObject({ format: 'webp', width: 24, pageHeight: 18 });
    expect(animation.pages).toBeGreaterThanOrEqual(2);
  });

  it('Cancel: refused to another member, stops the job for the requester; 429s are waited out', async () => {
    startPainting();
    const limited = fake.rateLimit({ match: EDIT, retryAfter: 0.3 });
    const mark = fake.mark();
    const sent = await fake.sendSlashCommand({
      name: 'stylize',
      // A long job, cancelled long before it ends.
      options: {
        image: { filename: 'photo.png', bytes: await picture(2, 40, 30) },
        style: 'the_scream',
        iterations: 1000,
      },
      user: fake.users.alice,
    });
    await fake.waitForCallback(sent);
    await fake.waitFor(START_THREAD, 10_000, mark);
    const jobId = await latestJobId();
    const progressPost = await fake.waitFor(
      (r) => r.route === SEND && r.status === 200 && r.params.channelId !== fake.channelId,
      10_000,
      mark,
    );
    const progress = progressPost.response as APIMessage;

    // The first progress edit got a 429 and was retried after retry_after.
    const edits = await fake.waitForCount((r) => r.route === EDIT, 2, 30_000, mark);
    expect(limited.hits).toBe(1);
    expect(edits.map((e) => e.status)).toEqual([429, 200]);
    expect(edits[1]!.params.messageId).toBe(edits[0]!.params.messageId);
    expect(edits[1]!.at - edits[0]!.at).toBeGreaterThanOrEqual(300);

    // Bob may not cancel Alice's painting.
    const bobPress = await fake.sendButton({
      customId: `stylize:cancel:${jobId}:${fake.users.alice.id}`,
      message: progress,
      user: fake.users.bob,
    });
    expect(await ephemeralAnswer(bobPress)).toMatch(/Only the member who asked/);
    expect(['queued', 'running']).toContain((await job(jobId)).status);

    // An admin sees it in the queue.
    const queue = await fake.sendSlashCommand({ name: 'stylize-admin queue', user: fake.users.admin });
    expect(await ephemeralAnswer(queue)).toContain(`#${jobId} · <@${fake.users.alice.id}>`);

    // Alice can.
    const alicePress = await fake.sendButton({
      customId: `stylize:cancel:${jobId}:${fake.users.alice.id}`,
      message: progress,
      user: fake.users.alice,
    });
    expect(await ephemeralAnswer(alicePress)).toMatch(
      new RegExp(`Painting #${jobId} is (cancelled|stopping)`),
    );
    await waitFor('the job to stop', async () => (await job(jobId)).status === 'cancelled', 30_000);
    const cancelled = await fake.waitFor(
      (r) =>
        r.route === SEND &&
        r.params.channelId === progress.channel_id &&
        (r.body as { content?: string }).content === `Painting #${jobId} was cancelled.`,
      10_000,
    );
    expect(cancelled.status).toBe(200);
    await waitFor('the reply to say so', async () =>
      fake.message(progress.channel_id)?.content.endsWith('Cancelled.') ? true : undefined,
    );
  }, 60_000);
  it('without permission to start threads, shows progress and then the images in the reply', async () => {
    startPainting();
    // As Discord answers a bot without Create Public Threads in the channel (overwrites are not modelled).
    const refusal = fake.intercept({
      match: START_THREAD,
      status: 403,
      body: { message: 'Missing Permissions', code: 50013 },
    });
    try {
      const mark = fake.mark();
      const sent = await fake.sendSlashCommand({
        name: 'stylize',
        options: {
          image: { filename: 'photo.png', bytes: await picture(5, 40, 30) },
          style: 'shipwreck',
          iterations: 25,
        },
        user: fake.users.bob,
      });
      expect((await fake.waitFor(START_THREAD, 10_000, mark)).status).toBe(403);
      const reply = await waitFor('the reply', async () => fake.originalMessage(sent));
      const jobId = await latestJobId();
      await waitFor(
        'the painting in the reply',
        async () => (fake.message(reply.id)?.attachments.length === 2 ? true : undefined),
        30_000,
      );
      const done = fake.message(reply.id)!;
      expect(done.attachments.map((a) => a.filename)).toEqual([
        expect.stringMatching(new RegExp(`^painting-${jobId}\\.(png|jpg)$`)),
        expect.stringMatching(new RegExp(`^comparison-${jobId}\\.(png|jpg)$`)),
      ]);
      expect(done.content).toContain('Done ✅');
      // The reply is the final message: it carries the variation buttons and the Timelapse, no Cancel any more.
      expect(JSON.stringify(done.components)).toContain(`stylize:vary:more-style:${jobId}:`);
      expect(JSON.stringify(done.components)).toContain(`stylize:timelapse:${jobId}`);
      expect(JSON.stringify(done.components)).not.toContain('stylize:cancel');
      // Progress went to the reply itself, with the preview, through the channel endpoint.
      const progressEdits = fake.filter(
        (r) => r.route === EDIT && r.params.messageId === reply.id && r.files.length === 1,
        mark,
      );
      expect(progressEdits.length).toBeGreaterThanOrEqual(1);
      expect(fake.threadsOf(fake.channelId).some((t) => t.id === reply.id)).toBe(false);
    } finally {
      refusal.cancel();
    }
  }, 60_000);
});

describe('Discord bot: refusals', () => {
  it('refuses an unsupported file at once, ephemerally, and a disguised one after deferring', async () => {
    const text = await fake.sendSlashCommand({
      name: 'stylize',
      options: {
        image: { filename: 'notes.txt', bytes: Buffer.from('not a picture') },
        style: 'starry_night',
      },
    });
    const callback = await fake.waitForCallback(text);
    expect(callback.body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect((callback.body as { data: { content: string } }).data.content).toMatch(
      /not an image I can read \(JPEG, PNG/,
    );

    // Named and typed as PNG, but it is not one: found out by decoding, after the deferred reply.
    const mark = fake.mark();
    const disguised = await fake.sendSlashCommand({
      name: 'stylize',
      options: {
        image: { filename: 'photo.png', bytes: Buffer.from('not a picture at all') },
        style: 'starry_night',
      },
    });
    expect((await fake.waitForCallback(disguised)).body).toMatchObject({ type: 5 });
    const followup = await fake.waitFor(
      (r) => r.route === FOLLOWUP && r.params.token === disguised.token,
      5_000,
      mark,
    );
    expect(followup.body).toMatchObject({ flags: MessageFlags.Ephemeral });
    expect((followup.body as { content: string }).content).toMatch(/not an image I can read/);
    expect(fake.find('DELETE /webhooks/:applicationId/:token/messages/:messageId', mark)).toBeDefined();
    expect(fake.channelMessages(fake.channelId).some((m) => m.content.includes('not an image'))).toBe(false);
  });

  it('refuses a photo or style image too long and narrow for the layers at once, from Discord’s metadata', async () => {
    for (const [options, why] of [
      [
        { image: { filename: 'strip.png', bytes: await picture(8, 1, 500) }, style: 'starry_night' },
        'Your photo is too long and narrow for me to paint (1×500 pixels, about 500:1): at 24 px I can paint ' +
          'shapes up to about 6:1. Crop it to at most 6:1 and send it again.',
      ],
      [
        {
          image: { filename: 'photo.png', bytes: await picture(8) },
          style_image: { filename: 'banner.png', bytes: await picture(9, 500, 2) },
        },
        'Your style image is too long and narrow for me to paint (500×2 pixels, about 250:1): at 24 px I can ' +
          'paint shapes up to about 6:1. Crop it to at most 6:1 and send it again.',
      ],
    ] as const) {
      const mark = fake.mark();
      const sent = await fake.sendSlashCommand({ name: 'stylize', options, user: fake.users.bob });
      const callback = await fake.waitForCallback(sent);
      expect(callback.body).toMatchObject({ type: 4, data: { content: why, flags: MessageFlags.Ephemeral } });
      expect(fake.filter('GET /cdn/*', mark)).toEqual([]);
    }
  });

  it('refuses an attachment that is not on Discord’s CDN without downloading it', async () => {
    const template = (
      await fake.sendAutocomplete({ name: 'stylize', options: { style: 's' }, focused: 'style' })
    ).payload as APIInteraction & Record<string, unknown>;
    await fake.waitForCallback(template);
    const { id: _id, token: _token, ...common } = template;
    const mark = fake.mark();
    const local = fake.uploadAttachment({ filename: 'photo.png', bytes: await picture(3) });
    // The same file, addressed by another origin than the configured DISCORD_CDN_URL's.
    const foreign = { ...local, url: local.url.replace('127.0.0.1', 'localhost') };
    const sent = await fake.sendInteraction({
      ...common,
      type: InteractionType.ApplicationCommand,
      data: {
        ...(common.data as object),
        options: [
          { name: 'image', type: 11, value: foreign.id },
          { name: 'style', type: 3, value: 'starry_night' },
        ],
        resolved: { attachments: { [foreign.id]: foreign } },
      },
    } as never);
    expect(await ephemeralAnswer(sent)).toMatch(/isn't hosted by Discord/);
    expect(fake.filter('GET /cdn/*', mark)).toEqual([]);
  });

  it('refuses a quota at once, only to the member, before downloading anything, with when it resets', async () => {
    const set = await fake.sendSlashCommand({
      name: 'stylize-admin quota set',
      options: { member_daily: 0 },
      user: fake.users.admin,
    });
    expect(await ephemeralAnswer(set)).toMatch(
      /Limits updated[\s\S]*`member_daily` Paintings per day for each member: \*\*0\*\*/,
    );
    // The answer itself, ephemeral: no public "thinking…" reply first, and the photo is not downloaded.
    const content = await refusedAtOnce({ style: 'starry_night' });
    expect(content).toMatch(/^You have had your 0 paintings for today\. /);
    const reset = Number(/The limit \(0\) resets <t:(\d+):R>/.exec(content)?.[1]);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(reset).toBe(midnight.getTime() / 1000);

    const back = await fake.sendSlashCommand({
      name: 'stylize-admin quota reset',
      options: { limit: 'member_daily' },
      user: fake.users.admin,
    });
    expect(await ephemeralAnswer(back)).toMatch(
      /`member_daily` Paintings per day for each member: \*\*\d+\*\* \(default\)/,
    );
  });

  it('offers and accepts only what the server allows: sizes and iterations, the defaults lowered to its limits', async () => {
    const admin = async (name: string, options: Record<string, string | number>) =>
      ephemeralAnswer(
        await fake.sendSlashCommand({ name: `stylize-admin ${name}`, options, user: fake.users.admin }),
      );
    expect(await admin('quota set', { max_size: 20, max_iterations: 1 })).toMatch(/Limits updated/);
    const choices = async (focused: 'size' | 'iterations', typed: string) => {
      const sent = await fake.sendAutocomplete({ name: 'stylize', options: { [focused]: typed }, focused });
      return ((await fake.waitForCallback(sent)).body as { data: { choices: unknown[] } }).data.choices;
    };
    // The deployment's default size (24 px) and iterations (2) are lowered to the limits.
    expect(await choices('size', '')).toEqual([
      { name: 'The largest this server allows (20 px), the default', value: 20 },
    ]);
    expect(await choices('size', '18')).toEqual([
      { name: '18 px', value: 18 },
      { name: 'The largest this server allows (20 px), the default', value: 20 },
    ]);
    expect(await choices('iterations', '5')).toEqual([{ name: '1 iteration (the default)', value: 1 }]);

    // More than allowed: refused at once, before anything is public or downloaded.
    expect(await refusedAtOnce({ style: 'shipwreck', iterations: 5 })).toBe(
      'This server allows at most 1 iteration; ask for 1 or fewer.',
    );

    // Left out, they are the defaults within the limits: the request is accepted.
    const jobId = await queued('shipwreck');
    expect(JSON.parse((await job(jobId)).options)).toMatchObject({ size: 20, iterations: 1 });

    const reset = await admin('quota reset', { limit: 'all' });
    expect(reset.match(/\(default\)/g)).toHaveLength(7);
    expect(await choices('iterations', '')).toEqual([
      { name: '2 iterations (the default)', value: 2 },
      { name: '1000 iterations (the most this server allows)', value: 1000 },
    ]);
  });

  it('refuses an unknown painting before anything is public, and takes a typed title for the painting it names', async () => {
    expect(await refusedAtOnce({ style: 'mona_lisa' })).toMatch(
      /^There is no painting called "mona_lisa" here \(presets: shipwreck, starry_night, the_scream/,
    );

    const jobId = await queued('the scream');
    expect(JSON.parse((await job(jobId)).styleRefs)[0]).toMatchObject({
      name: 'The Scream — Edvard Munch, 1893',
      preset: true,
    });
  });

  it('reports an attachment Discord will not hand over as the bot’s problem: its likely cause to the member, a log line and a metric to the operator', async () => {
    const faults = (reason: string) => downloadFaultCount('discord', reason);
    const before = { page: await faults('web_page'), refused: await faults('refused') };
    const answer = async (cdn: { contentType?: string; status?: number }) => {
      const mark = fake.mark();
      const sent = await fake.sendSlashCommand({
        name: 'stylize',
        options: { image: { filename: 'photo.png', bytes: await picture(9), cdn }, style: 'starry_night' },
        user: fake.users.bob,
      });
      const followup = await fake.waitFor(
        (r) => r.route === FOLLOWUP && r.params.token === sent.token,
        5_000,
        mark,
      );
      expect(followup.body).toMatchObject({ flags: MessageFlags.Ephemeral });
      return (followup.body as { content: string }).content;
    };
    const page = await answer({ contentType: 'text/html' });
    expect(page).toBe(
      `${OPERATOR_FAULT_TEXT} Discord sent a web page instead of that attachment (likely an expired attachment ` +
        'link, or a DISCORD_CDN_URL that is not a Discord CDN).',
    );
    expect(await faults('web_page')).toBe(before.page + 1);
    expect(await answer({ status: 403 })).toMatch(
      /Discord refused to give me that attachment \(HTTP 403; likely/,
    );
    expect(await faults('refused')).toBe(before.refused + 1);
    const lines = logged.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reason);
    expect(lines.map((l) => [l.msg, l.reason])).toEqual([
      ["discord: a member's file came back as something other than the file", 'web_page'],
      ["discord: a member's file came back as something other than the file", 'refused'],
    ]);
    expect(lines[0]).toMatchObject({
      host: new URL(fake.cdnUrl).host,
      cause: expect.stringMatching(/web page/),
    });
  });

  it('re-checks Manage Server for /stylize-admin, whatever Discord showed', async () => {
    const sent = await fake.sendSlashCommand({ name: 'stylize-admin quota show', user: fake.users.bob });
    const callback = await fake.waitForCallback(sent);
    expect(callback.body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect((callback.body as { data: { content: string } }).data.content).toMatch(/Manage Server/);

    const admin = await fake.sendSlashCommand({ name: 'stylize-admin quota show', user: fake.users.admin });
    expect(await ephemeralAnswer(admin)).toMatch(
      /This server's limits:[\s\S]*`max_iterations` Most iterations members may ask for: \*\*1000\*\* \(default\)/,
    );
  });

  it('answers outside a server that it works in servers only', async () => {
    const sent = await fake.sendInteraction({
      type: InteractionType.ApplicationCommand,
      channel: { id: fake.channelId, type: 1 },
      channel_id: fake.channelId,
      user: fake.users.alice,
      locale: 'en-US',
      app_permissions: '0',
      context: 1,
      authorizing_integration_owners: { '1': fake.users.alice.id },
      data: { id: '1', name: 'stylize', type: 1, options: [] },
    } as never);
    expect(await ephemeralAnswer(sent)).toMatch(/I work in servers only/);
  });
});

describe('Discord bot: admins', () => {
  const admin = async (name: string, options: Record<string, unknown> = {}) =>
    ephemeralAnswer(
      await fake.sendSlashCommand({
        name: `stylize-admin ${name}`,
        options: options as never,
        user: fake.users.admin,
      }),
    );

  it('sets every limit, and puts one or all back to the operator’s default', async () => {
    const set = await admin('quota set', {
      server_daily: 50,
      member_daily: 9,
      member_concurrent: 2,
      max_size: 400,
      max_iterations: 700,
      server_running: 3,
      member_running: 2,
    });
    for (const line of [
      '`server_daily` Paintings per day for the whole server: **50**',
      '`member_daily` Paintings per day for each member: **9**',
      '`member_concurrent` Paintings each member may have queued or in progress at once: **2**',
      '`max_size` Largest output size (px) members may ask for: **400**',
      '`max_iterations` Most iterations members may ask for: **700**',
      "`server_running` This server's paintings painted at once (more wait in the queue): **3**",
      "`member_running` Each member's paintings painted at once (more wait in the queue): **2**",
    ]) {
      expect(set).toContain(`${line}\n`);
    }
    const row = () => core.db.prisma.server.findFirstOrThrow({ where: { platform: 'discord' } });
    expect(await row()).toMatchObject({ serverRunningJobs: 3, memberRunningJobs: 2 });
    expect(await admin('quota reset', { limit: 'server_running' })).toMatch(
      /`server_running` [^\n]*: \*\*2\*\* \(default\)\n/,
    );
    expect(await row()).toMatchObject({ serverRunningJobs: null, memberRunningJobs: 2 });
    await admin('quota reset', { limit: 'all' });
    expect(await row()).toMatchObject({ serverDailyJobs: null, maxSize: null, memberRunningJobs: null });
  });

  it('removes only the server’s own presets, offers only those, and says why the bot’s own stay', async () => {
    expect(
      await admin('preset add', {
        name: 'monet',
        image: { filename: 'monet.png', bytes: await picture(12) },
      }),
    ).toMatch(/Preset `monet` saved/);
    const sent = await fake.sendAutocomplete({
      name: 'stylize-admin preset remove',
      options: { name: '' },
      focused: 'name',
      user: fake.users.admin,
    });
    expect(((await fake.waitForCallback(sent)).body as { data: unknown }).data).toEqual({
      choices: [{ name: 'monet', value: 'monet' }],
    });
    expect(await admin('preset remove', { name: 'starry_night' })).toBe(
      '"starry_night" comes with the bot: the people running it installed it, so a server can’t remove it. ' +
        'A preset of this server’s own called "starry_night" would replace it here.',
    );
    expect(await admin('preset remove', { name: 'monet' })).toBe('Preset `monet` removed.');
  });
});

describe('Discord bot: presets', () => {
  it('autocompletes paintings by title, artist or name, and shows them by title', async () => {
    const choices = async (typed: string) => {
      const sent = await fake.sendAutocomplete({
        name: 'stylize',
        options: { style: typed },
        focused: 'style',
      });
      return (await fake.waitForCallback(sent)).body as { type: number; data: { choices: unknown[] } };
    };
    expect(await choices('gogh')).toEqual({
      type: 8,
      data: { choices: [{ name: 'The Starry Night — Vincent van Gogh, 1889', value: 'starry_night' }] },
    });
    expect((await choices('woman-with')).data.choices).toEqual([
      { name: 'Woman with a Hat — Henri Matisse, 1905', value: 'woman-with-hat-matisse' },
    ]);
    expect((await choices('')).data.choices).toEqual([
      { name: 'The Scream — Edvard Munch, 1893', value: 'the_scream' },
      { name: 'The Shipwreck of the Minotaur — J. M. W. Turner, c. 1810', value: 'shipwreck' },
      { name: 'The Starry Night — Vincent van Gogh, 1889', value: 'starry_night' },
      { name: 'Woman with a Hat — Henri Matisse, 1905', value: 'woman-with-hat-matisse' },
    ]);
  });

  it('lists a server’s presets once for a run of keystrokes, and again once an admin changes them', async () => {
    // Each listing reads the presets: count the reads.
    let listings = 0;
    const prisma = core.db.prisma;
    const counting = new Proxy(prisma, {
      get(target, key) {
        if (key === 'preset') listings++;
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const choices = serverChoiceCache({ ...core, db: { ...core.db, prisma: counting } } as Core);
    const server = { platform: 'discord' as const, id: fake.guildId };
    for (let keystroke = 0; keystroke < 5; keystroke++) {
      expect((await choices.get(server)).presets.map((p) => p.name)).toContain('starry_night');
    }
    expect(listings).toBe(1);
    choices.delete(server); // what preset add and remove, and quota set and reset, do
    await choices.get(server);
    expect(listings).toBe(2);
  });

  it('answers a keystroke without writing: a server never seen gets the operator’s presets and limits', async () => {
    const refused = await failWrites(core, 'no_server_writes', {
      table: 'Server',
      op: 'INSERT',
      when: '1 = 1',
    });
    try {
      const server = { platform: 'discord' as const, id: '999999999999999999' };
      const { presets, limits } = await serverChoiceCache(core).get(server);
      expect(presets.map((p) => p.name)).toContain('starry_night');
      expect(presets.every((p) => !p.own)).toBe(true);
      expect(limits.maxIterations).toBe(1000); // QUOTA_MAX_ITERATIONS
      expect(await core.db.prisma.server.count({ where: { externalId: server.id } })).toBe(0);
    } finally {
      await refused.heal();
    }
  });

  it('/stylize-presets shows the paintings by title and a contact sheet of thumbnails', async () => {
    const sent = await fake.sendSlashCommand({ name: 'stylize-presets' });
    const callback = await fake.waitForCallback(sent);
    expect(callback.body).toEqual({ type: 5, data: { flags: MessageFlags.Ephemeral } });
    const edit = await fake.waitFor((r) => r.route === EDIT_ORIGINAL && r.params.token === sent.token);
    expect((edit.body as { content: string }).content).toMatch(
      /4 preset paintings[\s\S]*\n• The Starry Night — Vincent van Gogh, 1889\n/,
    );
    expect(edit.files).toHaveLength(1);
    const sheet = await sharp(edit.files[0]!.bytes).metadata();
    expect(sheet.format).toBe('jpeg');
    expect(sheet.width).toBeGreaterThan(4 * 150); // four thumbnails in a row
  });
});

describe('Discord bot: history', () => {
  const history = async (user: keyof typeof fake.users) =>
    ephemeralAnswer(await fake.sendSlashCommand({ name: 'stylize-history', user: fake.users[user] }));
  const jobsOf = (userId: string) =>
    core.db.prisma.job.findMany({ where: { requesterId: userId }, orderBy: { id: 'desc' } });

  it('/stylize-history lists only the member’s own paintings, with links, and says which are no longer kept', async () => {
    const alice = await jobsOf(fake.users.alice.id);
    const [cancelled, done] = alice; // the Cancel test's, then the first test's
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(done).toMatchObject({ status: 'succeeded' });
    const guild = `https://discord.com/channels/${fake.guildId}`;
    // The link the first job's reply got to the message with the painting, in its thread.
    const painting = /https:\/\/discord\.com\/channels\/\S+/.exec(fake.message(done!.threadId!)!.content)![0];
    expect(painting.startsWith(`${guild}/${done!.threadId}/`)).toBe(true);

    const answer = await history('alice');
    const lines = answer.split('\n');
    expect(lines[0]).toBe(`Your last ${alice.length} paintings on this server, newest first:`);
    expect(lines.slice(1).map((l) => /^• #(\d+) /.exec(l)?.[1])).toEqual(alice.map((j) => String(j.id)));
    const line = (id: number) => lines.find((l) => l.startsWith(`• #${id} `))!;
    expect(line(cancelled!.id)).toMatch(/ · cancelled <t:\d+:R> · /);
    expect(line(cancelled!.id)).toContain(`[open the thread](${guild}/${cancelled!.threadId})`);
    expect(line(done!.id)).toMatch(/ · done <t:\d+:R> · /);
    expect(line(done!.id)).toContain(`[see the painting](${painting})`);
    for (const other of await jobsOf(fake.users.bob.id)) expect(answer).not.toContain(`#${other.id} `);

    // Once retention has deleted its images, the painting's line says so and links to its thread.
    await notifier.drain();
    await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 1000));
    const later = (await history('alice')).split('\n').find((l) => l.startsWith(`• #${done!.id} `))!;
    expect(later).toMatch(/ · done <t:\d+:R> \(no longer kept\) · /);
    expect(later).toContain(`[open the thread](${guild}/${done!.threadId})`);
  });

  it('tells a member with no paintings how to start one', async () => {
    expect(await history('owner')).toBe(
      'You have no paintings on this server yet. Start one with `/stylize`.',
    );
  });
});

describe('Discord bot: timelapse after retention', () => {
  it('Timelapse: tells the member who pressed, alone, once the images are no longer kept', async () => {
    const { jobId } = finished!;
    const done = await job(jobId);
    await notifier.drain();
    await purgeExpired(core, new Date(done.finishedAt!.getTime() + core.config.jobs.retentionMs + 1));
    expect((await job(jobId)).timelapseRef).toBeNull();
    expect(await ephemeralAnswer(await pressTimelapse())).toBe(
      `The timelapse of painting #${jobId} is no longer kept: its images were deleted after the retention period.`,
    );
  });
});

describe('Discord bot: variations', () => {
  const server = () => ({ platform: 'discord' as const, id: fake.guildId });
  const ADMIN = { userId: 'admin', isAdmin: true };

  /** The final message of job `jobId` in thread `threadId`, once posted. */
  const finalOf = (threadId: string, jobId: number) =>
    fake.waitFor(
      (r) =>
        r.route === SEND &&
        r.params.channelId === threadId &&
        r.files.some((f) => f.filename.startsWith(`painting-${jobId}.`)),
      30_000,
    );
  const buttonsOf = (message: APIMessage) =>
    (message.components ?? []).flatMap(
      (row) => (row as { components: { label: string; custom_id: string }[] }).components,
    );

  /** A press of `label` under `final` by `user`; returns the interaction. */
  async function press(final: APIMessage, label: string, user = fake.users.alice) {
    const button = buttonsOf(fake.message(final.id)!).find((b) => b.label === label);
    if (!button) throw new Error(`no ${label} button under message ${final.id}`);
    return fake.sendButton({ customId: button.custom_id, message: final, user });
  }

  /** A press answered in public in the thread: the job it queued, once its final message is in the thread. */
  async function varied(final: APIMessage, label: string, user = fake.users.alice) {
    const before = await latestJobId();
    const sent = await press(final, label, user);
    expect((await fake.waitForCallback(sent)).body).toMatchObject({ type: 5 });
    const jobId = await waitFor('the variation', async () =>
      (await latestJobId()) > before ? latestJobId() : undefined,
    );
    const posted = await finalOf(final.channel_id, jobId);
    // The press's answer in the thread was the variation's progress message, and now links to its result.
    await waitFor('the answer to say it is done', async () =>
      fake.originalMessage(sent)?.content.includes('Done ✅') ? true : undefined,
    );
    expect(fake.originalMessage(sent)!.channel_id).toBe(final.channel_id);
    return { jobId, row: await job(jobId), final: posted.response as APIMessage, posted };
  }

  it('paints each variation in the thread, for the requester and admins; refuses others, limits and gone images', async () => {
    startPainting();
    const sent = await fake.sendSlashCommand({
      name: 'stylize',
      options: { image: { filename: 'photo.png', bytes: await picture(3, 40, 30) }, style: 'starry_night' },
      user: fake.users.alice,
    });
    await fake.waitForCallback(sent);
    const threadId = (await waitFor('the reply', async () => fake.originalMessage(sent))).id;
    const parentId = await waitFor(
      'the job',
      async () => (await core.db.prisma.job.findFirst({ where: { threadId } }))?.id,
    );
    const final = (await finalOf(threadId, parentId)).response as APIMessage;
    const parent = await job(parentId);
    expect(buttonsOf(fake.message(final.id)!).map((b) => b.label)).toEqual([
      'More style',
      'Less style',
      'Keep my colours',
      'Larger',
      'Timelapse',
      'Delete',
    ]);

    // Only Alice (or an admin) may: Bob is told so, and nothing is queued.
    const before = await latestJobId();
    expect(await ephemeralAnswer(await press(final, 'More style', fake.users.bob))).toBe(
      'Only the member who asked for this painting, or an admin, can ask for a variation of it.',
    );
    expect(await latestJobId()).toBe(before);

    const usage = () =>
      core.db.prisma.usage.count({ where: { requesterId: fake.users.alice.id, refundedAt: null } });
    const used = await usage();
    const more = await varied(final, 'More style');
    const parentOptions = JSON.parse(parent.options);
    expect(JSON.parse(more.row.options)).toEqual({ ...parentOptions, strength: parentOptions.strength + 25 });
    expect(more.row).toMatchObject({
      threadId,
      parentJobId: parentId,
      variation: 'more-style',
      requesterId: fake.users.alice.id,
      contentRef: parent.contentRef,
    });
    expect(await usage()).toBe(used + 1);

    // Larger: 1.5 × 24 px, painted from the first result.
    const larger = await varied(final, 'Larger');
    expect(larger.row).toMatchObject({ size: 36, startRef: parent.resultRef, threadId });
    const result = await sharp(larger.posted.files[0]!.bytes).metadata();
    expect(Math.max(result.width, result.height)).toBe(36);

    // With the server's largest lowered to 24 px, Larger is refused in plain words and no longer offered.
    await setLimits(core, server(), { maxSize: 24 }, ADMIN);
    expect(await ephemeralAnswer(await press(final, 'Larger'))).toBe(
      `Painting #${parentId} is 24 px, and the largest painting this server allows is 24 px, so I can’t paint it larger.`,
    );
    const colours = await varied(final, 'Keep my colours');
    expect(JSON.parse(colours.row.options)).toMatchObject({
      preserveColors: true,
      strength: parentOptions.strength,
    });
    expect(buttonsOf(colours.final).map((b) => b.label)).toEqual([
      'More style',
      'Less style',
      'Use the painting’s colours',
      'Timelapse',
      'Delete',
    ]);

    // An admin may vary Alice's painting: the variation is then the admin's.
    const less = await varied(final, 'Less style', fake.users.admin);
    expect(less.row.requesterId).toBe(fake.users.admin.id);
    expect(JSON.parse(less.row.options).strength).toBe(parentOptions.strength - 25);

    // A daily limit reached: refused to Alice alone, with when it resets.
    await setLimits(core, server(), { maxSize: null, memberDailyJobs: await usage() }, ADMIN);
    expect(await ephemeralAnswer(await press(final, 'Less style'))).toMatch(
      new RegExp(
        `^You have had your ${await usage()} paintings for today\\. The limit \\(\\d+\\) resets <t:\\d+:R>\\.$`,
      ),
    );
    await setLimits(core, server(), { memberDailyJobs: null }, ADMIN);

    // Once retention has deleted the painting's images, the buttons say so.
    await waitFor('every end posted', async () =>
      (await core.db.prisma.job.count({
        where: { OR: [{ eventPending: true }, { deliveringAt: { not: null } }] },
      })) === 0
        ? true
        : undefined,
    );
    await purgeExpired(core, new Date(Date.now() + core.config.jobs.retentionMs + 60_000));
    expect(await ephemeralAnswer(await press(final, 'Less style'))).toBe(
      `The photo and painting of #${parentId} are no longer kept (images are deleted 72 hours after a painting ends), ` +
        'so I can’t make a variation of it. Ask for a new painting with /stylize.',
    );
  }, 120_000);
});

describe('Discord bot: logs', () => {
  it('never logs the token or an attachment URL', () => {
    expect(logged.length).toBeGreaterThan(0);
    const all = logged.join('');
    expect(all).not.toContain(fake.token);
    expect(all).not.toMatch(/[?&](ex|hm)=/);
    expect(all).not.toContain('/cdn/attachments/');
  });
});
