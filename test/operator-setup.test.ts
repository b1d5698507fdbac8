/**
 * The bot as an operator first starts it: `npm run dev` (`npm start` on the sources) with Discord and Slack
 * configured (the fake platforms of test/discord and test/slack), one worker beside it, and only the VGG-19 blocks
 * 1-3 installed. Then the paper's layers asked for with those weights. Then, with adapters in this process and a
 * worker that would paint with the paper's layers, images too long and narrow refused on both platforms.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireDiscordConfig } from '../discord/config.ts';
import { type DiscordAdapter, startDiscord } from '../discord/index.ts';
import { PAINTING_UNAVAILABLE_TEXT } from '../jobs/capacity.ts';
import type { Core } from '../jobs/core.ts';
import { workerAlive } from '../jobs/workers.ts';
import { createLogger } from '../lib/log.ts';
import type { SlackConfig } from '../slack/config.ts';
import { type SlackAdapter, startSlack } from '../slack/index.ts';
import { asset } from './assets.ts';
import {
  type Child,
  createTestDatabase,
  logLines,
  picture,
  spawnNpm,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';
import {
  alice,
  chatEnv,
  discordAnswer,
  type Platforms,
  platforms,
  SECRET,
  SEND,
  slackMember,
  TOKEN,
} from './platforms.ts';

const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#507090' } })
    .png()
    .toBuffer();

describe('npm start with only the blocks 1-3 weights', () => {
  let db: TestDatabase;
  let fakes: Platforms | undefined;
  let bot: Child | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterEach(async () => {
    if (bot && bot.process.exitCode === null) {
      // Ctrl-C, as a terminal sends it to npm, the bot and its workers.
      process.kill(-bot.process.pid!, 'SIGINT');
      await bot.exited;
    }
    bot = undefined;
    await fakes?.discord.close();
    await fakes?.slack.close();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** `npm run dev` in a process group of its own, with both platforms configured; its output collected. */
  async function npmStart(extra: Record<string, string>) {
    fakes = await platforms();
    const { discord, slack } = fakes;
    const env = testEnv(db, {
      BOT_WORKERS: '1',
      WORKER_BACKEND: 'onnx',
      PRESETS_DIR: asset('styles'),
      ...chatEnv(fakes),
      // The operator's defaults, for paintings that take a second.
      STYLIZE_SIZE: '24',
      STYLIZE_ITERATIONS: '2',
      ...extra,
    });
    bot = spawnNpm('dev', env);
    const { output } = bot;
    await discord.waitForSession(60_000);
    const port = await waitFor(
      'the Slack app',
      async () => logLines(output(), 'slack app listening')[0]?.port as number | undefined,
    );
    return {
      ...fakes,
      output,
      slackMember: slackMember(slack, () => `http://127.0.0.1:${port}/slack/events`),
    };
  }

  it('says it paints with the shallow layers, and a member’s /stylize on Discord and on Slack returns a painting', async () => {
    const { discord, slack, output, slackMember: member } = await npmStart({});
    const warning = await waitFor('the worker’s start', async () =>
      output()
        .split('\n')
        .find((line) => line.includes('painting with the shallow layers')),
    );
    expect(JSON.parse(warning)).toMatchObject({ level: 40, name: 'worker', layers: 'shallow' });
    expect(JSON.parse(warning).msg).toMatch(/hold VGG-19 blocks 1-3 only: painting with the shallow layers/);
    // The worker beside the bot gets the bot's environment without the chat platforms' variables.
    const workerPid = logLines(output(), 'worker process started')[0]?.workerPid as number;
    const workerEnv = readFileSync(`/proc/${workerPid}/environ`, 'utf8').split('\0');
    expect(workerEnv).toContainEqual(expect.stringMatching(/^DATABASE_URL=/));
    expect(workerEnv.filter((v) => /^(DISCORD|SLACK)_/.test(v))).toEqual([]);
    // The worker's declaration reaches the database before the first request is checked against it.
    const core = await testCore(db);
    try {
      await waitFor('the worker’s heartbeat', async () => (await core.db.prisma.worker.count()) > 0);
    } finally {
      await core.close();
    }

    const asked = await discordAnswer(discord, await picture(1, 40, 30));
    expect(asked.type).toBe(5);
    const final = await discord.waitFor(
      (r) => r.route === SEND && r.params.channelId !== discord.channelId && r.files.length === 2,
      120_000,
    );
    const result = await sharp(final.files[0]!.bytes).metadata();
    expect(Math.max(result.width, result.height)).toBe(24); // STYLIZE_SIZE

    const started = await member.send(await member.openForm(), await picture(2, 40, 30));
    expect(started).toMatch(/Your painting is job \d+/);
    const complete = await slack.waitForCall(
      'files.completeUploadExternal',
      (c) => (c.args.files as unknown[]).length === 2,
      120_000,
    );
    expect(complete.args.channel_id).toBe(alice.channelId);

    // The shallow layers paint down to 4 px at the smallest scale (24 px here): a 1×5000 or 5000×1 strip is not.
    for (const [width, height] of [
      [1, 5000],
      [5000, 1],
    ] as const) {
      const strip = await solid(width, height);
      const refused = await discordAnswer(discord, strip);
      expect(refused.type).toBe(4);
      expect(refused.content).toMatch(
        /^Your photo is too long and narrow for me to paint .*Crop it to at most 6:1/,
      );
      expect(await member.send(await member.openForm(), strip)).toMatch(/Your photo is too long and narrow/);
    }
    // Every message with images went out (the bot's process loads two versions of undici: see restOptions).
    expect(output()).not.toMatch(/could not post/);
    expect(output()).not.toContain(discord.token);
    expect(output()).not.toContain(TOKEN);
  });

  it('with STYLIZE_LAYERS=paper: one clear line at the start, and members told plainly that painting is unavailable', async () => {
    const { discord, slack, output, slackMember: member } = await npmStart({ STYLIZE_LAYERS: 'paper' });
    const errors = await waitFor('the worker’s refusal', async () => {
      const lines = output()
        .split('\n')
        .filter((line) => line.startsWith('{') && JSON.parse(line).level >= 50);
      return lines.length > 0 ? lines : undefined;
    });
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0]!).msg).toMatch(
      /^cannot paint with the paper layers \(STYLIZE_LAYERS\): layer conv4_1 \(block4_conv1\) is not in the weights at .*, which hold blocks 1-3 only: install the full VGG-19 with `stylize weights download`, or set STYLIZE_LAYERS=shallow \(or auto\)$/,
    );
    const core = await testCore(db);
    try {
      await waitFor(
        'the worker’s heartbeat',
        async () => (await core.db.prisma.worker.count({ where: { problem: { not: null } } })) > 0,
      );
    } finally {
      await core.close();
    }

    const mark = discord.mark();
    const refused = await discordAnswer(discord, await picture(3, 40, 30));
    expect(refused).toMatchObject({ type: 4, content: PAINTING_UNAVAILABLE_TEXT });
    expect(discord.filter('GET /cdn/*', mark)).toEqual([]);
    // Slack says so when the form would open.
    expect(JSON.stringify(await member.openForm())).toContain('Painting is unavailable right now');
    expect(slack.callsOf('chat.postMessage')).toHaveLength(0);
    // The bot's log names the cause for the operator.
    await waitFor('the bot’s log line', async () =>
      logLines(output(), 'discord: /stylize check failed').some((l) =>
        JSON.stringify(l).includes('painting is unavailable: cannot paint with the paper layers'),
      ),
    );
  });
});

describe('images too long and narrow for the paper’s layers, on Discord and Slack', () => {
  let db: TestDatabase;
  let core: Core;
  let fakes: Platforms;
  let discordBot: DiscordAdapter;
  let slackBot: SlackAdapter;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db, { PRESETS_DIR: asset('styles') });
    fakes = await platforms();
    const jobDefaults = { layers: 'paper' as const, size: 384, iterations: 2 };
    const log = createLogger({ logLevel: 'warn' }, 'test');
    discordBot = await startDiscord(
      core,
      requireDiscordConfig({
        DISCORD_TOKEN: fakes.discord.token,
        DISCORD_APPLICATION_ID: fakes.discord.applicationId,
        DISCORD_API_URL: fakes.discord.apiUrl,
        DISCORD_CDN_URL: fakes.discord.cdnUrl,
      }),
      log,
      { jobDefaults },
    );
    const slackConfig: SlackConfig = {
      botToken: TOKEN,
      signingSecret: SECRET,
      appToken: undefined,
      apiUrl: fakes.slack.apiUrl,
      port: 0,
      host: '127.0.0.1',
      files: { maxBytes: 1024 * 1024, timeoutMs: 5_000 },
      progressEveryMs: 0,
      previewsPerJob: 1,
      sizes: [256, 384],
      jobDefaults,
    };
    slackBot = await startSlack(core, slackConfig, log);
    // A worker that paints the paper's layers, alive: nothing here paints, every request is refused first.
    await workerAlive(
      core.db,
      {
        id: 'paper-worker',
        host: 'test',
        concurrency: 1,
        speed: null,
        capability: {
          sizes: { paper: 1024, shallow: 1024 },
          auto: 'paper',
          backend: 'onnx',
          device: 'cpu',
          problem: null,
        },
      },
      new Date(),
    );
  });
  afterAll(async () => {
    await discordBot?.stop();
    await slackBot?.stop();
    await fakes?.discord.close();
    await fakes?.slack.close();
    await core?.close();
    await db?.drop();
  });

  it('refuses a 1×5000, a 5000×1 and a 1170×15000 photo with what to do, before anything is public', async () => {
    const member = slackMember(fakes.slack, () => `http://127.0.0.1:${slackBot.port}/slack/events`);
    for (const [width, height, ratio] of [
      [1, 5000, 5000],
      [5000, 1, 5000],
      [1170, 15000, 13],
    ] as const) {
      const photo = await solid(width, height);
      const sentence =
        `Your photo is too long and narrow for me to paint (${width}×${height} pixels, about ${ratio}:1): at 384 px ` +
        'I can paint shapes up to about 12:1. Crop it to at most 12:1 and send it again';
      const mark = fakes.discord.mark();
      const discord = await discordAnswer(fakes.discord, photo);
      expect(discord.type).toBe(4);
      expect(discord.content).toContain(sentence);
      expect(fakes.discord.filter('GET /cdn/*', mark)).toEqual([]);
      const slack = await member.send(await member.openForm(), photo);
      expect(slack).toContain(sentence);
      for (const text of [discord.content!, slack])
        expect(text).not.toMatch(/conv\d|layer|Something went wrong/);
    }
    expect(fakes.slack.callsOf('chat.postMessage')).toHaveLength(0);
    expect(await core.db.prisma.job.count()).toBe(0);
  });
});
