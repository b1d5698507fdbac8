/**
 * Proves the fake Discord server (test/discord/fake-discord.ts) with the real discord.js client: login and
 * READY, interactions in and their responses out (JSON and multipart), threads, rate limits, autocomplete,
 * buttons, resuming, gateway compression, and `npm run register` against it.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { createInflate, inflateSync } from 'node:zlib';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  type ChatInputCommandInteraction,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  PermissionFlagsBits,
} from 'discord.js';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { commandDefinitions } from '../discord/commands/index.ts';
import { describeRegistered, registerCommands } from '../discord/commands/register.ts';
import { FakeDiscord, type FakeDiscordOptions } from './discord/fake-discord.ts';

const EDIT_ORIGINAL = 'PATCH /webhooks/:applicationId/:token/messages/:messageId';

let fake: FakeDiscord;
let clients: Client[] = [];

async function startFake(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  await fake?.close();
  fake = await FakeDiscord.start(options);
  return fake;
}

beforeEach(async () => {
  fake = await FakeDiscord.start();
});

afterEach(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  clients = [];
  await fake.close();
});

async function login(intents: GatewayIntentBits[] = [GatewayIntentBits.Guilds]): Promise<Client> {
  const client = new Client({ intents, rest: fake.restOptions });
  clients.push(client);
  const ready = once(client, Events.ClientReady);
  await client.login(fake.token);
  await ready;
  return client;
}

function nextInteraction(client: Client): Promise<Interaction> {
  return new Promise((resolve) => client.once(Events.InteractionCreate, resolve));
}

async function register(): Promise<void> {
  await registerCommands({ token: fake.token, applicationId: fake.applicationId, apiUrl: fake.apiUrl });
}

const png = (width: number, height: number, background = '#c04020') =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();

describe('fake Discord with the real discord.js client', () => {
  it('logs in: gateway discovery, IDENTIFY, READY and GUILD_CREATE, heartbeats', async () => {
    await startFake({ heartbeatIntervalMs: 100 });
    const client = await login();

    expect(client.user?.id).toBe(fake.applicationId);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.name).toBe('Fake Guild');
    expect(guild?.channels.cache.get(fake.channelId)?.name).toBe('general');
    expect(guild?.members.me?.permissions.has(PermissionFlagsBits.CreatePublicThreads)).toBe(true);
    expect(guild?.roles.cache.find((r) => r.name === 'Admin')?.permissions.has('ManageGuild')).toBe(true);

    const discovery = fake.find('GET /gateway/bot');
    expect(discovery?.version).toBe(10);
    expect(discovery?.headers.authorization).toBe(`Bot ${fake.token}`);
    const identify = fake.gatewayLog.find((e) => e.direction === 'in' && e.op === 2);
    expect((identify?.d as { intents?: number } | undefined)?.intents).toBe(GatewayIntentBits.Guilds);
    await fake.waitForGateway((e) => e.direction === 'in' && e.op === 1, 3_000);
    await fake.waitForGateway((e) => e.direction === 'out' && e.op === 11, 3_000);
  });

  it('dispatches a slash command with options and an attachment; defer, edit with files, thread', async () => {
    await register();
    const client = await login();
    const photo = await png(8, 6);
    const incoming = nextInteraction(client);
    const sent = await fake.sendSlashCommand({
      name: 'stylize',
      options: {
        image: { filename: 'photo.png', bytes: photo },
        style: 'starry_night',
        strength: 70,
        size: 384,
        preserve_colors: true,
      },
    });

    const interaction = (await incoming) as ChatInputCommandInteraction;
    expect(interaction.isChatInputCommand()).toBe(true);
    expect(interaction.id).toBe(sent.id);
    expect(interaction.commandName).toBe('stylize');
    expect(interaction.commandId).toBe(fake.commands().find((c) => c.name === 'stylize')?.id);
    expect(interaction.user.id).toBe(fake.users.alice.id);
    expect(interaction.guildId).toBe(fake.guildId);
    expect(interaction.channelId).toBe(fake.channelId);
    expect(interaction.options.getString('style')).toBe('starry_night');
    expect(interaction.options.getInteger('strength')).toBe(70);
    expect(interaction.options.getInteger('size')).toBe(384);
    expect(interaction.options.getBoolean('preserve_colors')).toBe(true);
    expect(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(false);
    expect(interaction.appPermissions.has(PermissionFlagsBits.AttachFiles)).toBe(true);
    const image = interaction.options.getAttachment('image', true);
    expect(image.name).toBe('photo.png');
    expect(image.contentType).toBe('image/png');
    expect([image.width, image.height, image.size]).toEqual([8, 6, photo.length]);
    const downloaded = Buffer.from(await (await fetch(image.url)).arrayBuffer());
    expect(downloaded.equals(photo)).toBe(true);

    await interaction.deferReply();
    const callback = await fake.waitForCallback(sent);
    expect(callback.body).toEqual({ type: 5, data: { flags: 0 } });
    expect(fake.originalMessage(sent)?.flags).toBe(MessageFlags.Loading);

    const result = await png(16, 12, '#2040c0');
    const mark = fake.mark();
    const reply = await interaction.editReply({
      content: 'Queued: position 1',
      files: [new AttachmentBuilder(result, { name: 'result.png' })],
    });
    const edit = await fake.waitFor(EDIT_ORIGINAL, 2_000, mark);
    expect(edit.params.messageId).toBe('@original');
    expect(edit.headers['content-type']).toMatch(/^multipart\/form-data/);
    expect(edit.body).toMatchObject({ content: 'Queued: position 1', attachments: [{ id: '0' }] });
    expect(edit.files).toHaveLength(1);
    expect(edit.files[0]?.filename).toBe('result.png');
    expect(edit.files[0]?.bytes.equals(result)).toBe(true);
    const original = fake.originalMessage(sent);
    expect(original?.flags).toBe(0);
    expect(original?.attachments.map((a) => [a.filename, a.width, a.height])).toEqual([
      ['result.png', 16, 12],
    ]);
    expect(fake.cdnBytes(original!.attachments[0]!.url).equals(result)).toBe(true);
    expect(reply.id).toBe(original?.id);
    expect(reply.attachments.first()?.name).toBe('result.png');

    const thread = await reply.startThread({ name: 'Stylize: photo.png' });
    const created = await fake.waitFor('POST /channels/:channelId/messages/:messageId/threads');
    expect(created.params).toEqual({ channelId: fake.channelId, messageId: reply.id });
    expect(thread.id).toBe(reply.id);
    expect(thread.parentId).toBe(fake.channelId);
    expect(fake.threadsOf(fake.channelId).map((t) => t.name)).toEqual(['Stylize: photo.png']);

    const progress = await thread.send({
      content: 'Iteration 10/100',
      files: [{ attachment: result, name: 'p.png' }],
    });
    await progress.edit({
      content: 'Iteration 50/100',
      files: [{ attachment: photo, name: 'p.png' }],
      attachments: [],
    });
    const edits = fake.filter('PATCH /channels/:channelId/messages/:messageId');
    expect(edits).toHaveLength(1);
    expect(edits[0]?.params).toEqual({ channelId: thread.id, messageId: progress.id });
    expect(edits[0]?.files[0]?.bytes.equals(photo)).toBe(true);
    const stored = fake.channelMessages(thread.id);
    expect(stored.map((m) => m.content)).toEqual(['Iteration 50/100']);
    expect(stored[0]?.attachments).toHaveLength(1);
    expect(stored[0]?.edited_timestamp).not.toBeNull();
  });

  it('answers 429 with retry-after, and discord.js retries after the delay', async () => {
    const client = await login();
    const channel = client.channels.cache.get(fake.channelId);
    if (!channel?.isSendable()) throw new Error('no text channel');
    const limit = fake.rateLimit({ match: 'POST /channels/:channelId/messages', retryAfter: 0.3 });

    const message = await channel.send('hello');

    expect(message.content).toBe('hello');
    expect(limit.hits).toBe(1);
    const attempts = fake.filter('POST /channels/:channelId/messages');
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect(attempts[0]?.response).toEqual({
      message: 'You are being rate limited.',
      retry_after: 0.3,
      global: false,
    });
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(300);
  });

  it('answers autocomplete (callback type 8) and button presses', async () => {
    await register();
    const client = await login();

    const incoming = nextInteraction(client);
    const sent = await fake.sendAutocomplete({
      name: 'stylize',
      options: { style: 'star' },
      focused: 'style',
    });
    const autocomplete = await incoming;
    if (!autocomplete.isAutocomplete()) throw new Error('expected autocomplete');
    expect(autocomplete.options.getFocused(true)).toMatchObject({ name: 'style', value: 'star' });
    await autocomplete.respond([{ name: 'The Starry Night (van Gogh)', value: 'starry_night' }]);
    const callback = await fake.waitForCallback(sent);
    expect(callback.body).toEqual({
      type: 8,
      data: { choices: [{ name: 'The Starry Night (van Gogh)', value: 'starry_night' }] },
    });

    const channel = client.channels.cache.get(fake.channelId);
    if (!channel?.isSendable()) throw new Error('no text channel');
    const cancel = new ButtonBuilder()
      .setCustomId('cancel:job1')
      .setLabel('Cancel')
      .setStyle(ButtonStyle.Danger);
    const progress = await channel.send({
      content: 'Running',
      components: [new ActionRowBuilder<ButtonBuilder>().addComponents(cancel)],
    });
    const pressed = nextInteraction(client);
    const button = await fake.sendButton({
      customId: 'cancel:job1',
      message: progress,
      user: fake.users.bob,
    });
    const interaction = await pressed;
    if (!interaction.isButton()) throw new Error('expected a button');
    expect(interaction.customId).toBe('cancel:job1');
    expect(interaction.user.id).toBe(fake.users.bob.id);
    expect(interaction.message.id).toBe(progress.id);
    await interaction.reply({ content: 'Only the requester can cancel.', flags: MessageFlags.Ephemeral });
    const refusal = await fake.waitForCallback(button);
    expect(refusal.body).toMatchObject({ type: 4, data: { flags: MessageFlags.Ephemeral } });
    expect(fake.originalMessage(button)?.content).toBe('Only the requester can cancel.');
    expect(fake.channelMessages(fake.channelId).map((m) => m.id)).toEqual([progress.id]); // ephemeral: not in channel
  });

  it('enforces Discord rules: the 3 s deadline (here shortened) and one response per interaction', async () => {
    await startFake({ interactionDeadlineMs: 150 });
    const client = await login();
    const incoming = nextInteraction(client);
    await fake.sendSlashCommand({ name: 'anything', options: { n: 1 } });
    const late = (await incoming) as ChatInputCommandInteraction;
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(late.deferReply()).rejects.toMatchObject({ code: 10062, status: 404 });

    const again = nextInteraction(client);
    await fake.sendSlashCommand({ name: 'anything', user: fake.users.admin });
    const twice = (await again) as ChatInputCommandInteraction;
    expect(twice.memberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(true);
    const response = await twice.reply({ content: 'first', withResponse: true });
    expect(response.resource?.message?.content).toBe('first');
    expect(response.interaction.id).toBe(twice.id);
    const error = await client.rest
      .post(`/interactions/${twice.id}/${twice.token}/callback`, {
        body: { type: 4, data: { content: 'x' } },
        auth: false,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(40060);
  });

  it('resumes after the gateway drops the connection', async () => {
    const client = await login();
    fake.disconnectGateway(4000);
    await fake.waitForGateway((e) => e.direction === 'out' && e.t === 'RESUMED', 5_000);
    const incoming = nextInteraction(client);
    const sent = await fake.sendSlashCommand({ name: 'stylize-presets' });
    expect((await incoming).id).toBe(sent.id);
    expect(fake.gatewayLog.filter((e) => e.direction === 'in' && e.op === 2)).toHaveLength(1);
  });

  it('speaks zlib-stream and IDENTIFY compress to clients that ask', async () => {
    const ws = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
    const inflate = createInflate();
    const decoded: { op: number; t: string | null }[] = [];
    let text = '';
    inflate.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      try {
        decoded.push(JSON.parse(text));
        text = '';
      } catch {}
    });
    ws.on('message', (data: Buffer) => inflate.write(data));
    await once(ws, 'open');
    await until(() => decoded.length >= 1);
    expect(decoded[0]?.op).toBe(10);
    ws.send(JSON.stringify({ op: 2, d: { token: fake.token, intents: 1, properties: {} } }));
    await until(() => decoded.some((p) => p.t === 'GUILD_CREATE'));
    expect(decoded.map((p) => p.t)).toEqual([null, 'READY', 'GUILD_CREATE']);
    ws.close();

    const plain = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
    const frames: Buffer[] = [];
    plain.on('message', (data: Buffer) => frames.push(data));
    await once(plain, 'open');
    plain.send(
      JSON.stringify({ op: 2, d: { token: fake.token, intents: 0, compress: true, properties: {} } }),
    );
    await until(() => frames.length >= 2);
    expect(JSON.parse(frames[0]!.toString()).op).toBe(10);
    expect(JSON.parse(inflateSync(frames[1]!).toString()).t).toBe('READY');
    plain.close();
  });
});

describe('fake Discord CDN', () => {
  it('serves hosted files and attachments, slowly, stalled or failing on request', async () => {
    const url = fake.hostFile('presets/starry night.jpg', Buffer.from('painting'), { delayMs: 100 });
    const started = Date.now();
    const response = await fetch(url);
    expect([response.status, response.headers.get('content-type'), await response.text()]).toEqual([
      200,
      'image/jpeg',
      'painting',
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);

    fake.setCdnBehavior(url, { stallAfterBytes: 2 });
    const stalled = fetch(url, { signal: AbortSignal.timeout(150) }).then((r) => r.text());
    await expect(stalled).rejects.toMatchObject({ name: 'TimeoutError' });
    fake.setCdnBehavior(url, { status: 404 });
    expect((await fetch(url)).status).toBe(404);

    const attachment = fake.uploadAttachment({
      filename: 'huge.png',
      bytes: await png(4, 4),
      size: 50_000_000,
    });
    expect(attachment).toMatchObject({ size: 50_000_000, width: 4, height: 4, ephemeral: true });
    expect(attachment.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/cdn\/attachments\/\d+\/\d+\/huge\.png\?ex=/);
    expect((await fetch(attachment.proxy_url)).status).toBe(200);
    expect(fake.filter('GET /cdn/*').map((r) => r.status)).toEqual([200, 200, 404]);
  });
});

describe('npm run register against the fake', () => {
  it('registers the commands globally and to a guild, idempotently', async () => {
    const global = await registerCommands({
      token: fake.token,
      applicationId: fake.applicationId,
      apiUrl: fake.apiUrl,
    });
    expect(global.map((c) => c.name)).toEqual([
      'stylize',
      'stylize-presets',
      'stylize-admin',
      'stylize-history',
      'stylize-help',
      'Stylize this image',
      'Paint this avatar',
    ]);
    const again = await registerCommands({
      token: fake.token,
      applicationId: fake.applicationId,
      apiUrl: fake.apiUrl,
    });
    expect(again.map((c) => c.id)).toEqual(global.map((c) => c.id));
    const put = fake.find('PUT /applications/:applicationId/commands');
    expect(put?.body).toEqual(commandDefinitions);
    expect(fake.commands().find((c) => c.name === 'stylize-admin')?.default_member_permissions).toBe(
      PermissionFlagsBits.ManageGuild.toString(),
    );

    await registerCommands({
      token: fake.token,
      applicationId: fake.applicationId,
      apiUrl: fake.apiUrl,
      guildId: fake.guildId,
    });
    expect(fake.commands(fake.guildId).map((c) => c.name)).toEqual([
      'stylize',
      'stylize-presets',
      'stylize-admin',
      'stylize-history',
      'stylize-help',
      'Stylize this image',
      'Paint this avatar',
    ]);
    expect(describeRegistered(global)).toContain('/stylize-admin (id');
    expect(describeRegistered(global)).toContain(
      '/stylize-admin (id ' +
        global[2]?.id +
        '): quota show, quota set, quota reset, preset add, preset remove, cancel, queue',
    );

    await expect(
      registerCommands({ token: 'wrong', applicationId: fake.applicationId, apiUrl: fake.apiUrl }),
    ).rejects.toMatchObject({ status: 401 });
    await expect(
      registerCommands({
        token: fake.token,
        applicationId: fake.applicationId,
        apiUrl: fake.apiUrl,
        commands: [{ name: 'Bad Name', description: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 400, code: 50035 });
  });

  it('runs as a script with --guild, printing what it registered and never the token', async () => {
    const env = {
      ...process.env,
      DISCORD_TOKEN: fake.token,
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
    };
    const run = (args: string[], environment: NodeJS.ProcessEnv) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'discord/commands/register.ts', ...args], {
        env: environment,
        timeout: 20_000,
      });
    const [{ stdout, stderr }, failed] = await Promise.all([
      run(['--guild', fake.guildId], env),
      run([], { ...env, DISCORD_APPLICATION_ID: 'nope' }).catch(
        (e: { code: number; stderr: string; stdout: string }) => e,
      ),
    ]);
    expect(stdout).toContain(`Registered 7 command(s) to guild ${fake.guildId}`);
    expect(stdout).toContain('Apps → Stylize this image (id');
    expect(stdout).toContain('/stylize-admin');
    expect(stdout + stderr).not.toContain(fake.token);
    expect(fake.commands(fake.guildId)).toHaveLength(7);

    expect('code' in failed && failed.code).toBe(1);
    expect(failed.stderr).toContain('DISCORD_APPLICATION_ID');
    expect(failed.stderr + failed.stdout).not.toContain(fake.token);
  }, 30_000);
});

async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
