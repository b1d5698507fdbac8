/**
 * The Discord adapter's parts without Discord: configuration, the attachment downloader (against local HTTP
 * servers), the pure rendering, fitting images to the upload limit, and the events' throttling and fallbacks
 * (against a recording stand-in for the REST client).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { REST } from '@discordjs/rest';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePreset } from '../chat/preset-choices.ts';
import { type DiscordRefs, encodeRefs } from '../chat/refs.ts';
import { Setups } from '../chat/setups.ts';
import { checkAttachment, downloadAttachment, isAllowedUrl } from '../discord/attachments.ts';
import { iterationChoices, presetChoices, sizeChoices } from '../discord/autocomplete.ts';
import { parseCancelButtonId, parseVariationButtonId } from '../discord/buttons.ts';
import { queueMessage } from '../discord/commands/admin.ts';
import { historyMessage } from '../discord/commands/history.ts';
import { type AttachmentPolicy, parseDiscordConfig, requireDiscordConfig } from '../discord/config.ts';
import { errorMessage } from '../discord/errors.ts';
import { discordEvents } from '../discord/events.ts';
import { fitToUpload } from '../discord/fit.ts';
import { finalMessage, progressEnded, progressRunning } from '../discord/job-messages.ts';
import { toRest } from '../discord/message-spec.ts';
import type { DownloadError } from '../lib/download.ts';
import { ImageError } from '../lib/images/index.ts';
import {
  INTERNAL_FAULT_TEXT,
  MemberFacingError,
  memberReply,
  OPERATOR_FAULT_TEXT,
} from '../lib/member-error.ts';
import { defaultsWithin, ITERATIONS, preselectSize, SIZE, sizesAllowed } from '../lib/request-rules.ts';
import type { Core, JobView } from '../rules/index.ts';
import { type PresetInfo, QuotaError, UserError } from '../rules/index.ts';
import { jobView } from './job-views.ts';

// ------------------------------------------------------------------------------------------- config

describe('Discord configuration', () => {
  const env = {
    DISCORD_TOKEN: 'secret-token-value',
    DISCORD_APPLICATION_ID: '123456789012345678',
  };

  it('is absent when neither the token nor the application id is set', () => {
    expect(parseDiscordConfig({})).toBeUndefined();
    expect(parseDiscordConfig({ DISCORD_TOKEN: '  ' })).toBeUndefined();
  });

  it('parses the variables, with Discord’s CDN hosts and the configured CDN’s origin allowed', () => {
    const config = parseDiscordConfig({
      ...env,
      DISCORD_API_URL: 'http://127.0.0.1:8080/api/',
      DISCORD_CDN_URL: 'http://127.0.0.1:8080/cdn',
    });
    expect(config).toMatchObject({
      token: 'secret-token-value',
      applicationId: '123456789012345678',
      apiUrl: 'http://127.0.0.1:8080/api',
      cdnUrl: 'http://127.0.0.1:8080/cdn',
      progressEditMs: 5_000,
      download: {
        allowedOrigins: [
          'https://cdn.discordapp.com',
          'https://media.discordapp.net',
          'http://127.0.0.1:8080',
        ],
        maxBytes: 25 * 1024 * 1024,
        timeoutMs: 30_000,
      },
    });
    expect(requireDiscordConfig(env).download.allowedOrigins).toHaveLength(2);
  });

  it('names what is wrong, never the token', () => {
    const failure = (vars: Record<string, string>) => {
      try {
        requireDiscordConfig(vars);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a failure');
    };
    const badId = failure({ ...env, DISCORD_APPLICATION_ID: 'nope' });
    expect(badId).toContain('DISCORD_APPLICATION_ID');
    expect(badId).not.toContain(env.DISCORD_TOKEN);
    expect(failure({ DISCORD_APPLICATION_ID: env.DISCORD_APPLICATION_ID })).toContain('DISCORD_TOKEN');
    expect(failure({ ...env, DISCORD_CDN_URL: 'ftp://x' })).toContain('DISCORD_CDN_URL');
    expect(failure({})).toContain('DISCORD_TOKEN is required');
  });
});

// --------------------------------------------------------------------------------------- attachments

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ server: Server; origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

describe('attachments', () => {
  let cdn: Awaited<ReturnType<typeof serve>>;
  let elsewhere: Awaited<ReturnType<typeof serve>>;
  let policy: AttachmentPolicy;
  const png = Buffer.from('89504e470d0a1a0a', 'hex');

  beforeAll(async () => {
    elsewhere = await serve((_req, res) => res.end('not from discord'));
    cdn = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/ok.png':
          res.writeHead(200, { 'content-type': 'image/png' }).end(png);
          return;
        case '/redirect-here':
          res.writeHead(302, { location: '/ok.png' }).end();
          return;
        case '/redirect-away':
          res.writeHead(302, { location: `${elsewhere.origin}/x.png?hm=signature` }).end();
          return;
        case '/declared-large':
          res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000));
          return;
        case '/streamed-large':
          // No Content-Length: chunked, cut off by the downloader once past the cap.
          res.writeHead(200);
          for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
          res.end();
          return;
        case '/stall':
          res.writeHead(200, { 'content-length': '100' });
          res.write(Buffer.alloc(10));
          return;
        default:
          res.writeHead(404).end();
      }
    });
    policy = {
      allowedOrigins: ['https://cdn.discordapp.com', 'https://media.discordapp.net', cdn.origin],
      maxBytes: 1000,
      timeoutMs: 300,
    };
  });
  afterAll(() => {
    for (const s of [cdn, elsewhere]) s?.server.closeAllConnections();
    cdn?.server.close();
    elsewhere?.server.close();
  });

  const failure = (url: string) =>
    downloadAttachment(url, policy).then(
      () => {
        throw new Error('expected a failure');
      },
      (error: unknown) => error as DownloadError,
    );

  it('allows only Discord’s CDN hosts over https and the configured origin', () => {
    expect(isAllowedUrl('https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&hm=2', policy)).toBe(true);
    expect(isAllowedUrl('https://media.discordapp.net/attachments/1/2/a.png', policy)).toBe(true);
    expect(isAllowedUrl('http://cdn.discordapp.com/a.png', policy)).toBe(false);
    expect(isAllowedUrl('https://cdn.discordapp.com.evil.example/a.png', policy)).toBe(false);
    expect(isAllowedUrl('https://user:pw@cdn.discordapp.com/a.png', policy)).toBe(false);
    expect(isAllowedUrl(`${cdn.origin}/ok.png`, policy)).toBe(true);
    expect(isAllowedUrl(`${elsewhere.origin}/ok.png`, policy)).toBe(false);
    expect(isAllowedUrl('not a url', policy)).toBe(false);
  });

  it('checks type, size and host from the metadata alone', () => {
    const meta = { name: 'a.png', contentType: 'image/png', size: 10, url: `${cdn.origin}/ok.png` };
    expect(checkAttachment(meta, policy)).toBeUndefined();
    expect(checkAttachment({ ...meta, contentType: null, name: 'a.JPG' }, policy)).toBeUndefined();
    const text = checkAttachment(
      { ...meta, name: 'a.txt', contentType: 'text/plain; charset=utf-8' },
      policy,
    );
    expect(text).toBeInstanceOf(ImageError);
    expect(text?.message).toMatch(/not an image I can read/);
    expect(
      checkAttachment({ ...meta, name: 'IMG_1.HEIC', contentType: 'image/heic' }, policy)?.message,
    ).toMatch(/HEIC/);
    expect(checkAttachment({ ...meta, size: 5_000_000 }, policy)?.message).toMatch(/\(4\.77 MB\) is over/);
    expect(checkAttachment({ ...meta, url: `${elsewhere.origin}/ok.png` }, policy)?.message).toMatch(
      /isn't hosted by Discord/,
    );
  });

  it('downloads from the allowed origin, following redirects that stay there', async () => {
    expect((await downloadAttachment(`${cdn.origin}/ok.png`, policy)).equals(png)).toBe(true);
    expect((await downloadAttachment(`${cdn.origin}/redirect-here`, policy)).equals(png)).toBe(true);
  });

  it('never follows a redirect off the allowed hosts', async () => {
    const error = await failure(`${cdn.origin}/redirect-away`);
    expect(error).toMatchObject({ code: 'host' });
    expect(elsewhere.hits).toEqual([]);
    expect(error.message).not.toContain('signature');
  });

  it('refuses a file over the cap, by its Content-Length or while streaming', async () => {
    expect(await failure(`${cdn.origin}/declared-large`)).toMatchObject({ code: 'too-large' });
    expect(await failure(`${cdn.origin}/streamed-large`)).toMatchObject({ code: 'too-large' });
  });

  it('gives up on a stalled transfer after the time limit, and on errors', async () => {
    const started = Date.now();
    expect(await failure(`${cdn.origin}/stall`)).toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await failure(`${cdn.origin}/missing`)).toMatchObject({ code: 'unavailable' });
    expect(await failure(`${elsewhere.origin}/ok.png`)).toMatchObject({ code: 'host' });
  });
});

// ---------------------------------------------------------------------------------------------- render

describe('render', () => {
  it('turns a message into a REST body with numbered attachments, or leaves attachments alone', () => {
    const data = Buffer.from('x');
    const withFiles = toRest({
      content: 'hi',
      files: [
        { name: 'a.png', data },
        { name: 'b.jpg', data },
      ],
    });
    expect(withFiles.body).toEqual({
      content: 'hi',
      allowed_mentions: { parse: [], users: [] },
      attachments: [
        { id: 0, filename: 'a.png' },
        { id: 1, filename: 'b.jpg' },
      ],
    });
    expect(withFiles.files?.map((f) => [f.key, f.name])).toEqual([
      ['files[0]', 'a.png'],
      ['files[1]', 'b.jpg'],
    ]);
    const plain = toRest({ content: 'x'.repeat(3000), components: [] });
    expect(plain.files).toBeUndefined();
    expect(plain.body).not.toHaveProperty('attachments');
    expect(plain.body.content).toHaveLength(2000);
  });

  it('shows progress with the preview and a Cancel button carrying the job and its requester', () => {
    const job = jobView();
    const spec = progressRunning(
      job,
      {
        iteration: 30,
        iterations: 300,
        loss: 1,
        etaMs: 60_000,
        preview: { mime: 'image/jpeg', bytes: Buffer.from('j') },
      },
      1_700_000_000_000,
    );
    expect(spec.content).toContain('iteration 30/300 (10%) · ready <t:1700000060:R>');
    expect(spec.files?.map((f) => f.name)).toEqual(['preview-7.jpg']);
    const id = spec.components?.[0]?.components[0];
    expect(id).toMatchObject({ custom_id: 'stylize:cancel:7:333333333333333333', label: 'Cancel' });
    expect(parseCancelButtonId('stylize:cancel:7:333333333333333333')).toEqual({
      jobId: 7,
      requesterId: '333333333333333333',
    });
    expect(parseCancelButtonId('stylize:cancel:x:1')).toBeUndefined();
    expect(progressEnded(job, 'done').components).toEqual([]);
    const early = { iteration: 96, iterations: 300, loss: 1, etaMs: 0, preview: undefined, converged: true };
    expect(progressRunning(job, early, 0).content).toContain(
      'Painting: converged early, after 96 of up to 300 iterations: finishing',
    );
    expect(progressEnded(jobView({ iteration: 97, converged: true }), 'done').content).toContain(
      'Done ✅ (converged early, after 97 of up to 300 iterations).',
    );
    expect(progressEnded(job, 'done').content).not.toContain('converged');
    expect(finalMessage(job, [], []).mentionUsers).toEqual([job.requesterId]);
  });

  it('puts the variations a finished painting offers under it, each button naming its job and requester', () => {
    const done = jobView({ status: 'succeeded' });
    const final = finalMessage(done, [], ['more-style', 'less-style', 'colours', 'larger']);
    const buttons = final.components![0]!.components as { label: string; custom_id: string }[];
    expect(buttons.map((b) => b.label)).toEqual([
      'More style',
      'Less style',
      'Keep my colours',
      'Larger',
      'Timelapse',
    ]);
    expect(buttons[3]!.custom_id).toBe('stylize:vary:larger:7:333333333333333333');
    expect(parseVariationButtonId(buttons[2]!.custom_id)).toEqual({
      kind: 'colours',
      jobId: 7,
      requesterId: '333333333333333333',
    });
    expect(parseVariationButtonId('stylize:vary:bigger:7:3')).toBeUndefined();
    expect(parseCancelButtonId(buttons[0]!.custom_id)).toBeUndefined();
    // Kept colours are offered back; no choices, no row.
    const kept = jobView({ options: { ...done.options, preserveColors: true } });
    const [colours] = finalMessage(kept, [], ['colours']).components![0]!.components as {
      label: string;
    }[];
    expect(colours!.label).toBe('Use the painting’s colours');
    // With no variation left to offer, the Timelapse button alone; Delete in a row of its own, always.
    const rows = finalMessage(done, [], []).components!;
    expect(rows.map((row) => row.components.map((b) => (b as { label: string }).label))).toEqual([
      ['Timelapse'],
      ['Delete'],
    ]);
    expect((rows[1]!.components[0] as { custom_id: string }).custom_id).toBe(
      'stylize:delete:7:333333333333333333',
    );
    // A variation's messages say what it changed.
    const larger = jobView({ id: 8, variationOf: { jobId: 7, kind: 'larger' } });
    expect(progressEnded(larger, 'done').content).toContain('#7 larger)');
  });

  it('words errors for members: the core’s own messages, a reset time, nothing internal', () => {
    const resetsAt = new Date(Date.UTC(2030, 0, 2));
    const quota = new QuotaError('memberDailyJobs', 3, resetsAt, 'You have had your 3 paintings for today.');
    expect(errorMessage(quota)).toBe(
      `You have had your 3 paintings for today. The limit (3) resets <t:${resetsAt.getTime() / 1000}:R>.`,
    );
    expect(errorMessage(new QuotaError('maxSize', 512, null, 'Too big.'))).toBe('Too big.');
    expect(errorMessage(new UserError('forbidden', 'No.'))).toBe('No.');
    expect(errorMessage(new Error('SQLITE_BUSY at /srv/db'))).toBe(INTERNAL_FAULT_TEXT);
    const operator = new MemberFacingError('scope', 'The bot token lacks files:read.', {
      audience: 'operator',
    });
    expect(errorMessage(operator)).toBe(OPERATOR_FAULT_TEXT);
    expect([memberReply(operator).log, memberReply(quota).log, memberReply(new Error('x')).log]).toEqual([
      true,
      false,
      true,
    ]);
  });

  const presets: PresetInfo[] = [
    { name: 'the_scream', label: 'The Scream — Edvard Munch, 1893', own: false },
    { name: 'starry_night', label: 'The Starry Night — Vincent van Gogh, 1889', own: false },
    { name: 'shipwreck', label: 'The Shipwreck of the Minotaur — J. M. W. Turner, c. 1810', own: false },
    { name: 'woman-with-hat-matisse', label: 'Woman with a Hat — Henri Matisse, 1905', own: false },
    { name: 'monet', label: 'monet', own: true },
  ];

  it('autocompletes presets by title, artist or name, ignoring case, accents and separators; 25 at most', () => {
    expect(presetChoices(presets, 'Starry N')).toEqual([
      { name: 'The Starry Night — Vincent van Gogh, 1889', value: 'starry_night' },
    ]);
    expect(presetChoices(presets, 'van gogh').map((c) => c.value)).toEqual(['starry_night']);
    expect(presetChoices(presets, 'MATISSÉ').map((c) => c.value)).toEqual(['woman-with-hat-matisse']);
    expect(presetChoices(presets, 'woman-with').map((c) => c.value)).toEqual(['woman-with-hat-matisse']);
    // Names and titles that start with it first, then a word that does, then the rest that contain it.
    expect(presetChoices(presets, 'the s').map((c) => c.value)).toEqual([
      'the_scream',
      'shipwreck',
      'starry_night',
    ]);
    expect(presetChoices(presets, 'm').map((c) => c.value)).toEqual([
      'monet',
      'the_scream',
      'shipwreck',
      'woman-with-hat-matisse',
    ]);
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `p${i}`, label: `p${i}`, own: true }));
    expect(presetChoices(many, '')).toHaveLength(25);
  });

  it('takes a title typed rather than picked for the preset it names, when it names exactly one', () => {
    expect(resolvePreset(presets, 'starry_night')).toBe('starry_night');
    expect(resolvePreset(presets, 'The Scream — Edvard Munch, 1893')).toBe('the_scream');
    expect(resolvePreset(presets, 'the scream')).toBe('the_scream');
    expect(resolvePreset(presets, 'gogh')).toBe('starry_night');
    expect(resolvePreset(presets, 'the s')).toBeUndefined(); // three fit
    expect(resolvePreset(presets, 'rembrandt')).toBeUndefined();
  });

  it('offers the sizes and iterations a server allows, the number typed first when allowed', () => {
    const within = { maxSize: 450, maxIterations: 7 };
    expect(sizeChoices(within, 384, '')).toEqual([
      { name: 'Small (256 px)', value: 256 },
      { name: 'Medium (384 px), the default', value: 384 },
      { name: 'The largest this server allows (450 px)', value: 450 },
    ]);
    expect(sizeChoices(within, 384, '300')[0]).toEqual({ name: '300 px', value: 300 });
    expect(sizeChoices(within, 384, '600')).toHaveLength(3);
    expect(sizeChoices({ maxSize: 100, maxIterations: 1 }, 100, '').map((c) => c.value)).toEqual([100]);
    expect(sizeChoices({ maxSize: 4096, maxIterations: 1 }, 384, '').map((c) => c.value)).toEqual([
      256, 384, 512,
    ]);
    expect(iterationChoices(within, 7, '')).toEqual([{ name: '7 iterations (the default)', value: 7 }]);
    expect(iterationChoices(within, 2, '5')).toEqual([
      { name: '5 iterations', value: 5 },
      { name: '2 iterations (the default)', value: 2 },
      { name: '7 iterations (the most this server allows)', value: 7 },
    ]);
    expect(iterationChoices({ maxSize: 1, maxIterations: 1 }, 1, '9')).toEqual([
      { name: '1 iteration (the default)', value: 1 },
    ]);
  });

  it('lowers the defaults to a server’s limits, and picks a size to preselect among those allowed', () => {
    expect(defaultsWithin({}, { maxSize: 512, maxIterations: 500 })).toEqual({
      size: SIZE.default,
      iterations: ITERATIONS.default,
    });
    expect(defaultsWithin({ size: 24, iterations: 2 }, { maxSize: 20, maxIterations: 1 })).toEqual({
      size: 20,
      iterations: 1,
    });
    expect(sizesAllowed([24, 32], 28)).toEqual([24, 28]);
    expect(sizesAllowed([256, 384, 512], 200)).toEqual([200]);
    expect(preselectSize([256, 384, 450], 384)).toBe(384);
    expect(preselectSize([24, 28], 384)).toBe(28);
    expect(preselectSize([256, 300], 24)).toBe(256);
  });

  it('keeps long listings under Discord’s 2000 characters', () => {
    const entries = Array.from({ length: 200 }, (_, i) => ({
      jobId: i,
      requesterId: '333333333333333333',
      status: 'queued' as const,
      position: i + 1,
      iteration: 0,
      iterations: 300,
      createdAt: new Date(),
    }));
    const content = queueMessage(entries).content;
    expect(content.length).toBeLessThanOrEqual(2000);
    expect(content).toMatch(/… and \d+ more$/);
    expect(queueMessage([]).content).toMatch(/Nothing/);
  });
});

// ------------------------------------------------------------------------------------------------ fit

describe('render: history', () => {
  const guild = 'https://discord.com/channels/111111111111111111';
  const at = new Date(1_700_000_000_000);
  const entry = (job: Partial<JobView>, kept = { imagesKept: true, resultKept: false }) => ({
    job: jobView({ createdAt: at, ...job }),
    ...kept,
  });

  it('links each painting: the message showing it while kept, else its thread, reply or channel', () => {
    const inReply = encodeRefs('discord', {
      ...refs,
      threadId: null,
      result: { channelId: '10', messageId: '20' },
    });
    const lines = historyMessage([
      entry({ id: 5, status: 'queued', chatRefs: encodeRefs('discord', refs), threadId: '20' }),
      entry(
        { id: 4, status: 'succeeded', finishedAt: at, chatRefs: inReply },
        { imagesKept: true, resultKept: true },
      ),
      entry(
        { id: 3, status: 'succeeded', finishedAt: at, chatRefs: inReply },
        { imagesKept: false, resultKept: false },
      ),
      entry({ id: 2, status: 'failed', finishedAt: at }, { imagesKept: false, resultKept: false }),
      entry({ id: 1, status: 'running', chatRefs: encodeRefs('discord', { ...refs, threadId: null }) }),
    ]).content.split('\n');
    expect(lines).toEqual([
      'Your last 5 paintings on this server, newest first:',
      `• #5 · **starry_night** · asked <t:1700000000:R> · waiting in the queue · [open the thread](${guild}/20)`,
      `• #4 · **starry_night** · asked <t:1700000000:R> · done <t:1700000000:R> · [see the painting](${guild}/10/20)`,
      `• #3 · **starry_night** · asked <t:1700000000:R> · done <t:1700000000:R> (no longer kept) · [open the thread](${guild}/10/20)`,
      `• #2 · **starry_night** · asked <t:1700000000:R> · failed <t:1700000000:R> · [open the thread](${guild}/222222222222222222)`,
      `• #1 · **starry_night** · asked <t:1700000000:R> · being painted · [open the thread](${guild}/10/20)`,
    ]);
  });

  it('counts one painting in the singular, and says how to start when there is none', () => {
    expect(historyMessage([entry({ status: 'cancelled', finishedAt: at })]).content).toMatch(
      /^Your last 1 painting on this server:\n• #7 · .* · cancelled <t:1700000000:R> · /,
    );
    expect(historyMessage([]).content).toBe(
      'You have no paintings on this server yet. Start one with `/stylize`.',
    );
  });
});

describe('fitToUpload', () => {
  const noise = (side: number) => {
    const data = Buffer.alloc(side * side * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + ((i * i) % 251)) % 256;
    return sharp(data, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer();
  };

  it('sends images that fit as they are', async () => {
    const bytes = await noise(16);
    const files = await fitToUpload(
      [{ baseName: 'painting-1', image: { mime: 'image/png', bytes } }],
      1 << 20,
    );
    expect(files).toEqual([{ name: 'painting-1.png', data: bytes, contentType: 'image/png' }]);
  });

  it('re-encodes as JPEG and scales down until both fit the limit together', async () => {
    const big = await noise(500);
    const limit = 64 * 1024 + 120_000;
    expect(big.length).toBeGreaterThan(limit);
    const files = await fitToUpload(
      [
        { baseName: 'painting-1', image: { mime: 'image/png', bytes: big } },
        { baseName: 'comparison-1', image: { mime: 'image/png', bytes: big } },
      ],
      limit,
    );
    expect(files.map((f) => f.name)).toEqual(['painting-1.jpg', 'comparison-1.jpg']);
    expect(files.reduce((sum, f) => sum + f.data.length, 0)).toBeLessThanOrEqual(limit - 64 * 1024);
    for (const file of files) expect((await sharp(file.data).metadata()).format).toBe('jpeg');
  });
});

// --------------------------------------------------------------------------------------------- events

interface Call {
  method: 'post' | 'patch';
  route: string;
  body: { content?: string; components?: unknown[]; attachments?: unknown[] };
  files: number;
  at: number;
}

function recordingRest(fail: (call: Call) => boolean = () => false) {
  const calls: Call[] = [];
  let next = 1000;
  const handle =
    (method: Call['method']) => async (route: string, options: { body: Call['body']; files?: [] }) => {
      const call = { method, route, body: options.body, files: options.files?.length ?? 0, at: Date.now() };
      calls.push(call);
      if (fail(call)) throw Object.assign(new Error('Missing Permissions'), { code: 50013, status: 403 });
      return { id: String(next++) };
    };
  return { rest: { post: handle('post'), patch: handle('patch') } as unknown as REST, calls };
}

const refs: DiscordRefs = {
  channelId: '10',
  replyId: '20',
  threadId: '20',
  progressChannelId: '20',
  progressId: '30',
  uploadLimit: 10 * 1024 * 1024,
};

function testLog() {
  const lines: string[] = [];
  return { log: pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
const progress = (iteration: number) => ({
  iteration,
  iterations: 100,
  loss: 1,
  etaMs: 1000,
  preview: { mime: 'image/jpeg' as const, bytes: Buffer.from([iteration]) },
});

describe('Discord job events', () => {
  const images = async () => ({
    result: {
      mime: 'image/png' as const,
      bytes: await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } })
        .png()
        .toBuffer(),
    },
    comparison: {
      mime: 'image/png' as const,
      bytes: await sharp({ create: { width: 12, height: 6, channels: 3, background: '#00f' } })
        .png()
        .toBuffer(),
    },
  });

  it('edits progress at most once per interval, with only the latest state, without blocking', async () => {
    const { rest, calls } = recordingRest();
    const events = discordEvents({
      core: {} as Core,
      rest,
      log: testLog().log,
      progressEditMs: 200,
      setups: new Setups(),
    });
    const job = jobView({ chatRefs: encodeRefs('discord', refs) });
    const result = await images();
    const patches = () => calls.filter((c) => c.method === 'patch');
    await events.progress(job, progress(1));
    await until(() => patches().length === 1);
    for (let i = 2; i <= 20; i++) await events.progress(job, progress(i));
    // The notifier is never held up: all nineteen calls returned before the throttled edit was made.
    expect(patches()).toHaveLength(1);
    await until(() => patches().length === 2);
    await sleep(100);
    const edits = patches();
    expect(edits.map((c) => c.route)).toEqual(['/channels/20/messages/30', '/channels/20/messages/30']);
    expect(edits[0]!.body.content).toContain('iteration 1/100');
    expect(edits[1]!.body.content).toContain('iteration 20/100'); // coalesced: 2-19 never shown
    // Throttled: the second edit waited for the interval (with slack for when each edit was recorded).
    expect(edits[1]!.at - edits[0]!.at).toBeGreaterThanOrEqual(150);
    expect(edits[1]!.files).toBe(1);

    // The end drops what is pending and posts the two images, closes progress and links the reply.
    await events.progress(job, progress(21));
    await events.completed(job, result);
    expect(calls.filter((c) => c.body.content?.includes('iteration 21'))).toEqual([]);
    const [post, close, link] = calls.slice(2);
    expect([post?.method, post?.route, post?.files]).toEqual(['post', '/channels/20/messages', 2]);
    expect([close?.route, close?.body.components]).toEqual(['/channels/20/messages/30', []]);
    expect(link?.route).toBe('/channels/10/messages/20');
    expect(link?.body.content).toContain('https://discord.com/channels/111111111111111111/20/1002'); // the post's id

    // Nothing after the end, and a repeated end event is ignored.
    await events.progress(job, progress(22));
    await events.completed(job, result);
    await sleep(250);
    expect(calls).toHaveLength(5);
    await events.stop();
  });

  it('logs a failed call and goes on: images go in the reply when the thread refuses them', async () => {
    const { rest, calls } = recordingRest(
      (call) => call.method === 'post' || call.body.content?.includes('iteration 1/') === true,
    );
    const { log, lines } = testLog();
    const events = discordEvents({
      core: {} as Core,
      rest,
      log,
      progressEditMs: 50,
      setups: new Setups(),
    });
    const job = jobView({ id: 8, chatRefs: encodeRefs('discord', refs) });
    await events.progress(job, progress(1));
    await until(() => calls.length === 1);
    await events.progress(job, progress(2));
    await until(() => calls.length === 2);
    expect(
      calls.filter((c) => c.method === 'patch').map((c) => c.body.content?.match(/iteration \d+/)?.[0]),
    ).toEqual(['iteration 1', 'iteration 2']);
    await events.completed(job, await images());
    const last = calls.at(-1)!;
    expect([last.route, last.files, last.body.content]).toEqual([
      '/channels/10/messages/20',
      2,
      expect.stringContaining('Done'),
    ]);
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string; err?: { code?: number } });
    expect(warnings.map((w) => w.msg)).toContain('discord: could not edit the progress message');
    expect(
      warnings.find((w) => w.msg === 'discord: could not post the final images in the thread')?.err,
    ).toMatchObject({
      code: 50013,
    });
    await events.stop();
  });

  it('waits for a job being set up in this process', async () => {
    const { rest, calls } = recordingRest();
    const setups = new Setups<number, DiscordRefs>();
    const events = discordEvents({ core: {} as Core, rest, log: testLog().log, progressEditMs: 50, setups });
    const job = jobView({ id: 10 }); // the event carries no refs yet: the set-up has not stored them
    const setup = setups.begin(10);
    const ending = events.failed(job, 'The painting failed.');
    await sleep(50);
    expect(calls).toEqual([]);
    setup.finish({ ...refs, threadId: null, progressChannelId: '10', progressId: '20' });
    await ending;
    // Without a thread the reply is the progress message: only it is edited.
    expect(calls.map((c) => [c.method, c.route])).toEqual([['patch', '/channels/10/messages/20']]);
    expect(calls[0]!.body.content).toContain('Failed ❌: The painting failed.');
    await events.stop();
  });
});
