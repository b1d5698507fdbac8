/**
 * The Apps menu's "Stylize this image" and "Paint this avatar", the Delete button and /stylize-help, end to end:
 * the real discord.js client (startDiscord) against the fake Discord server, the real core on SQLite, the
 * notifier, and a real worker loop painting tiny jobs (24 px, shallow layers of the real weights).
 */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIMessage,
  ApplicationCommandType,
  MessageFlags,
} from 'discord-api-types/v10';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRefs } from '../chat/refs.ts';
import { paintAvatarMessages } from '../discord/commands/paint-avatar.ts';
import { stylizeThisImageMessages } from '../discord/commands/stylize-this-image.ts';
import { deletionMessages } from '../discord/components/delete.ts';
import { type DiscordAdapter, startDiscord } from '../discord/index.ts';
import type { Core, Notifier } from '../rules/index.ts';
import { startNotifier } from '../rules/index.ts';
import { type RunningWorker, startWorker } from '../worker/loop.ts';
import { Painter } from '../worker/paint.ts';
import { asset, SHALLOW_WEIGHTS } from './assets.ts';
import type { FakeDiscord, InjectedInteraction } from './discord/fake-discord.ts';
import { createTestDatabase, picture, type TestDatabase, testCore, waitFor } from './job-system.ts';
import { discordTestConfig, startFakeDiscord } from './platforms.ts';

const SEND = 'POST /channels/:channelId/messages';
const DELETE = 'DELETE /channels/:channelId/messages/:messageId';
const START_THREAD = 'POST /channels/:channelId/messages/:messageId/threads';

let fake: FakeDiscord;
let db: TestDatabase;
let core: Core;
let bot: DiscordAdapter;
let notifier: Notifier;
let painter: Painter;
let worker: RunningWorker;

beforeAll(async () => {
  fake = await startFakeDiscord();
  db = await createTestDatabase('sqlite');
  core = await testCore(db, {
    PRESETS_DIR: asset('styles'),
    QUOTA_MAX_ITERATIONS: '1000',
    QUOTA_MAX_SIZE: '512',
    QUOTA_MEMBER_DAILY_JOBS: '6',
  });
  const config = discordTestConfig(fake);
  bot = await startDiscord(core, config, pino({ level: 'silent' }), {
    jobDefaults: { size: 24, iterations: 2, layers: 'shallow' },
  });
  notifier = startNotifier(core, { discord: bot.events });
  painter = new Painter({ weightsDir: SHALLOW_WEIGHTS, backend: 'wasm' });
  worker = startWorker(core, painter);
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

const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
const latestJobId = async () =>
  (await core.db.prisma.job.findFirst({ orderBy: { id: 'desc' }, select: { id: true } }))?.id ?? 0;

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;
const customIds = (message: APIMessage | undefined) =>
  ((message?.components ?? []) as Row[]).flatMap((row) =>
    row.components.map((c) => ('custom_id' in c ? c.custom_id : '')),
  );
const customId = (message: APIMessage | undefined, prefix: string) => {
  const found = customIds(message).find((id) => id.startsWith(prefix));
  if (!found) throw new Error(`no component ${prefix} in ${JSON.stringify(message?.components)}`);
  return found;
};

/** The interaction's first callback: its type, ephemeral or not, and its content when answered at once. */
async function answer(sent: InjectedInteraction) {
  const callback = await fake.waitForCallback(sent);
  const body = callback.body as { type: number; data?: { content?: string; flags?: number } };
  return {
    type: body.type,
    ephemeral: ((body.data?.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
    content: body.data?.content,
    seq: callback.seq,
  };
}

/** The deferred answer's edited text, once it is no longer "thinking…". */
async function deferredText(sent: InjectedInteraction): Promise<string> {
  return waitFor('the deferred answer', async () => {
    const message = fake.originalMessage(sent);
    return message && ((message.flags ?? 0) & MessageFlags.Loading) === 0 ? message.content : undefined;
  });
}

/** The picker a command answered with (ephemeral), once shown. */
async function picker(sent: InjectedInteraction): Promise<APIMessage> {
  expect(await answer(sent)).toMatchObject({ type: 5, ephemeral: true });
  await deferredText(sent);
  return fake.originalMessage(sent)!;
}

/**
 * `user` picks `style` (and strength 75) in the picker and presses Paint: resolves with the job, once it is painted
 * and its final message (with the Delete button) is posted in its thread.
 */
async function paint(shown: APIMessage, user = fake.users.alice, style = 'starry_night') {
  const at = { id: shown.id, channel_id: shown.channel_id };
  const chooseStyle = await fake.sendSelect({
    customId: customId(shown, 'stylize:pick:style:'),
    values: [style],
    message: at,
    user,
  });
  expect(await answer(chooseStyle)).toMatchObject({ type: 6 });
  await waitFor('the picker with the painting chosen', async () =>
    customIds(fake.message(shown.id)).some((id) => id.startsWith(`stylize:pick:go:${style}:`))
      ? true
      : undefined,
  );
  const chooseStrength = await fake.sendSelect({
    customId: customId(fake.message(shown.id), 'stylize:pick:strength:'),
    values: ['75'],
    message: at,
    user,
  });
  expect(await answer(chooseStrength)).toMatchObject({ type: 6 });
  await waitFor('the picker with the strength chosen', async () =>
    customIds(fake.message(shown.id)).some((id) => id.startsWith(`stylize:pick:go:${style}::75:`))
      ? true
      : undefined,
  );

  const before = await latestJobId();
  const press = await fake.sendButton({
    customId: customId(fake.message(shown.id), 'stylize:pick:go:'),
    message: at,
    user,
  });
  // As /stylize: a public reply, a thread on it, the job.
  expect(await answer(press)).toMatchObject({ type: 5, ephemeral: false });
  const jobId = await waitFor('the job', async () =>
    (await latestJobId()) > before ? latestJobId() : undefined,
  );
  const reply = fake.originalMessage(press)!;
  await fake.waitFor((r) => r.route === START_THREAD && r.params.messageId === reply.id);
  const final = await fake.waitFor(
    (r) => r.route === SEND && r.params.channelId === reply.id && r.files.length === 2,
    60_000,
  );
  await waitFor(
    'the painting recorded',
    async () => decodeRefs('discord', (await job(jobId)).chatRefs)?.result,
  );
  return { jobId, threadId: reply.id, replyId: reply.id, final: final.response as APIMessage };
}

/** Presses the Delete button of a finished painting. */
const pressDelete = (painted: { final: APIMessage; threadId: string }, user: typeof fake.users.alice) =>
  fake.sendButton({
    customId: customId(fake.message(painted.final.id), 'stylize:delete:'),
    message: { id: painted.final.id, channel_id: painted.threadId },
    user,
  });

let imagePainting: Awaited<ReturnType<typeof paint>>;

describe('Discord: the Apps menu, Delete and help', () => {
  it('registers the message command, the user command and /stylize-help', () => {
    const commands = fake.commands(fake.guildId);
    expect(commands.find((c) => c.name === 'Stylize this image')?.type).toBe(ApplicationCommandType.Message);
    expect(commands.find((c) => c.name === 'Paint this avatar')?.type).toBe(ApplicationCommandType.User);
    expect(commands.find((c) => c.name === 'stylize-help')?.type).toBe(ApplicationCommandType.ChatInput);
  });

  it('Stylize this image: refuses a message without an image, to the member alone and at once', async () => {
    const text = fake.postMemberMessage({ user: fake.users.bob, content: 'no picture here' });
    const mark = fake.mark();
    const sent = await fake.sendMessageCommand({ name: 'Stylize this image', message: text });
    expect(await answer(sent)).toMatchObject({
      type: 4,
      ephemeral: true,
      content: stylizeThisImageMessages.noImage,
    });

    const pdf = fake.postMemberMessage({
      attachments: [
        { filename: 'notes.pdf', bytes: Buffer.from('%PDF-1.4'), contentType: 'application/pdf' },
      ],
    });
    const onPdf = await fake.sendMessageCommand({ name: 'Stylize this image', message: pdf });
    const refused = await answer(onPdf);
    expect(refused).toMatchObject({ type: 4, ephemeral: true });
    expect(refused.content).toMatch(/PNG|JPEG/);
    expect(fake.filter('GET /cdn/*', mark)).toEqual([]);
    expect(await latestJobId()).toBe(0);
  });

  it('Stylize this image: the message’s first image, a picker for the member, then the job in a thread', async () => {
    const photo = await picture(3, 40, 30);
    const message = fake.postMemberMessage({
      user: fake.users.bob,
      content: 'look at this',
      attachments: [
        { filename: 'notes.txt', bytes: Buffer.from('hello'), contentType: 'text/plain' },
        { filename: 'photo.png', bytes: photo },
        { filename: 'other.png', bytes: await picture(9) },
      ],
    });
    const sent = await fake.sendMessageCommand({ name: 'Stylize this image', message });
    const shown = await picker(sent);
    expect(shown.content).toMatch(/^Paint this image: choose a painting/);
    // The picker shows the first image, and offers the paintings, the sizes this server allows and Paint (off).
    expect(shown.embeds[0]?.image?.url).toBe(message.attachments[1]!.url);
    expect(JSON.stringify(shown.components)).toContain('"value":"starry_night"');
    expect(JSON.stringify(shown.components)).toContain('"value":"512"');
    expect(JSON.stringify(shown.components)).not.toContain('"value":"1024"');
    expect((shown.components as Row[])[4]!.components[0]).toMatchObject({ label: 'Paint', disabled: true });
    // The image's size rides along for the shape check.
    expect(customId(shown, 'stylize:pick:go:')).toMatch(/:40x30$/);

    const mark = fake.mark();
    imagePainting = await paint(shown);
    // The photo painted is the message's image: downloaded from the CDN by its URL.
    expect(fake.filter('GET /cdn/*', mark).map((r) => r.path)).toContain(
      new URL(message.attachments[1]!.url).pathname,
    );
    const stored = await job(imagePainting.jobId);
    expect(stored).toMatchObject({ requesterId: fake.users.alice.id, status: 'succeeded' });
    expect(JSON.parse(stored.options)).toMatchObject({ strength: 75, size: 24 });
    expect(JSON.parse(stored.styleRefs)[0].name).toContain('The Starry Night');
    expect(customIds(fake.message(imagePainting.final.id))).toContain(
      `stylize:delete:${imagePainting.jobId}:${fake.users.alice.id}`,
    );
  });

  it('Delete: refused to another member, privately; the requester’s removes the painting', async () => {
    const painted = imagePainting;
    const bobs = await pressDelete(painted, fake.users.bob);
    expect(await answer(bobs)).toMatchObject({
      type: 4,
      ephemeral: true,
      content: deletionMessages.notYours,
    });
    expect(fake.message(painted.final.id)).toBeDefined();
    expect((await job(painted.jobId)).deletedAt).toBeNull();

    const before = await job(painted.jobId);
    const mark = fake.mark();
    const alices = await pressDelete(painted, fake.users.alice);
    expect(await answer(alices)).toMatchObject({ type: 5, ephemeral: true });
    expect(await deferredText(alices)).toBe(deletionMessages.deleted(painted.jobId));
    // The result message is deleted; the reply and the progress message say so, without images or buttons.
    expect(
      fake.find((r) => r.route === DELETE && r.params.messageId === painted.final.id, mark),
    ).toBeDefined();
    expect(fake.message(painted.final.id)).toBeUndefined();
    const notice = deletionMessages.notice(painted.jobId, fake.users.alice.id);
    expect(fake.message(painted.replyId)?.content).toBe(notice);
    const refs = decodeRefs('discord', before.chatRefs)!;
    expect(fake.message(refs.progressId)).toMatchObject({ content: notice, attachments: [], components: [] });
    expect(fake.channelMessages(painted.threadId).filter((m) => m.attachments.length > 0)).toEqual([]);
    // The stored images are gone; the job stays, deleted.
    const after = await job(painted.jobId);
    expect(after).toMatchObject({ status: 'succeeded', deletedBy: fake.users.alice.id, resultRef: null });
    expect(await core.images.get(before.resultRef!)).toBeUndefined();
    expect(await core.images.get(before.contentRef)).toBeUndefined();
  });

  it('Paint this avatar: the member’s avatar at the CDN’s largest size; an admin deletes the painting', async () => {
    const none = await fake.sendUserCommand({ name: 'Paint this avatar', target: fake.users.owner });
    expect(await answer(none)).toMatchObject({
      type: 4,
      ephemeral: true,
      content: paintAvatarMessages.noAvatar,
    });

    const avatar = fake.setAvatar(fake.users.bob, await picture(6, 32, 32));
    const sent = await fake.sendUserCommand({ name: 'Paint this avatar', target: fake.users.bob });
    const shown = await picker(sent);
    expect(shown.content).toContain(`<@${fake.users.bob.id}>’s avatar`);
    const url = new URL(shown.embeds[0]!.image!.url);
    expect(`${url.origin}${url.pathname}`).toBe(avatar);
    expect(url.searchParams.get('size')).toBe('4096');

    const mark = fake.mark();
    const painted = await paint(shown);
    expect(fake.filter('GET /cdn/*', mark).map((r) => r.path)).toContain(new URL(avatar).pathname);
    expect((await job(painted.jobId)).requesterId).toBe(fake.users.alice.id);

    const admins = await pressDelete(painted, fake.users.admin);
    expect(await answer(admins)).toMatchObject({ type: 5, ephemeral: true });
    expect(await deferredText(admins)).toBe(deletionMessages.deleted(painted.jobId));
    expect(fake.message(painted.final.id)).toBeUndefined();
    expect((await job(painted.jobId)).deletedBy).toBe(fake.users.admin.id);
  });

  it('/stylize-help: how to ask, the options within this server’s limits, the presets and what is left today', async () => {
    const sent = await fake.sendSlashCommand({ name: 'stylize-help', user: fake.users.alice });
    expect(await answer(sent)).toMatchObject({ type: 5, ephemeral: true });
    const text = await deferredText(sent);
    const presetsId = fake.commands(fake.guildId).find((c) => c.name === 'stylize-presets')!.id;
    expect(text).toContain('Apps → **Stylize this image**');
    expect(text).toContain('up to **512 px**');
    expect(text).toContain('up to **1000**');
    expect(text).toContain('(default 24 px)');
    expect(text).toContain(`</stylize-presets:${presetsId}>`);
    // Alice asked for two paintings today (deleting one gives nothing back), of her six.
    expect(text).toContain('**4 more paintings**');
    expect(text).toContain('2 of your 6 used');

    const bobs = await fake.sendSlashCommand({ name: 'stylize-help', user: fake.users.bob });
    expect(await deferredText(bobs)).toContain('**6 more paintings**');
  });
});
