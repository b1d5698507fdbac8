/**
 * What both adapters' job events share: the "latest state wins" progress edit, and the limiters of progress
 * edits, these against the local platforms (Slack's chat.update per workspace, Discord's message edits per
 * channel): a full place holds its own edits only, and a job's end does not wait behind them. The windows last a
 * minute, so the assertions read which calls were made, never how long anything took.
 */
import { REST } from '@discordjs/rest';
import { webApi } from '@slack/bolt';
import { Routes } from 'discord-api-types/v10';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressEdits } from '../chat/progress-edits.ts';
import { encodeRefs } from '../chat/refs.ts';
import { Setups } from '../chat/setups.ts';
import { writeLimiter } from '../chat/write-limiter.ts';
import { discordEvents } from '../discord/events.ts';
import type { Core, JobProgress, JobView } from '../rules/index.ts';
import { createSlackEvents } from '../slack/events.ts';
import { FakeDiscord } from './discord/fake-discord.ts';
import { jobView } from './job-views.ts';
import { FakeSlack } from './slack/fake-slack.ts';

const log = pino({ level: 'silent' });
const WINDOW_MS = 60_000;

function job(
  id: number,
  platform: 'discord' | 'slack',
  server: string,
  extra: Partial<JobView> = {},
): JobView {
  return jobView({ id, platform, server, channelId: 'C1', requesterId: 'U1', iteration: 10, ...extra });
}

const progress: JobProgress = { iteration: 10, iterations: 100, loss: 1, etaMs: 5_000, preview: undefined };

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('progress edits', () => {
  it('write the first state at once, then only the latest; an end waits for the edit under way', async () => {
    const written: number[] = [];
    const held: (() => void)[] = [];
    const edits = progressEdits<number>({
      intervalMs: 0,
      edit: async (_jobId, state) => {
        written.push(state);
        await new Promise<void>((release) => held.push(release));
      },
    });
    edits.report(1, 1);
    edits.report(1, 2);
    edits.report(1, 3);
    expect(written).toEqual([1]);
    held.shift()!();
    await until(() => written.length === 2);
    expect(written).toEqual([1, 3]); // 2 was never written

    edits.report(1, 4); // waits behind the edit of 3, still held
    let ended = false;
    const ending = edits.end(1).then((first) => {
      ended = true;
      return first;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ended).toBe(false);
    held.shift()!();
    expect(await ending).toBe(true);
    edits.report(1, 5);
    expect(await edits.end(1)).toBe(false);
    expect(written).toEqual([1, 3]); // 4 was dropped by the end, 5 came after it
  });
});

describe('Slack: progress edits per workspace', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = new FakeSlack('xoxb-limits');
    await slack.start();
  });
  afterAll(() => slack.close());

  it('holds a busy workspace’s edits and no other’s; a job’s end does not wait behind them', async () => {
    const limiter = writeLimiter({ intervalCap: 2, interval: WINDOW_MS });
    const events = createSlackEvents({
      client: new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl }),
      config: { progressEveryMs: 0, previewsPerJob: 0 },
      log,
      saveRefs: async () => {},
      limiter,
    });
    const slackJob = (id: number, team: string) =>
      job(id, 'slack', team, {
        threadId: `100.${id}`,
        chatRefs: JSON.stringify({ progressTs: `200.${id}` }),
      });
    const updates = () => slack.callsOf('chat.update');

    // Three jobs of one workspace report at once: two edits fit its window, the third waits.
    for (const id of [1, 2, 3]) await events.progress(slackJob(id, 'T1'), progress);
    await until(() => updates().length === 2 && limiter.waiting('T1') === 1);
    // Another workspace is not held up by that one.
    await events.progress(slackJob(4, 'T2'), progress);
    await until(() => updates().length === 3);
    expect(updates().map((c) => c.args.ts)).toEqual(['200.1', '200.2', '200.4']);
    expect(limiter.waiting('T1')).toBe(1);

    // Job 1 ends while job 3's edit waits for the window: its closing edit is made at once.
    await events.completed(slackJob(1, 'T1'), {
      result: { mime: 'image/png', bytes: Buffer.from('r') },
      comparison: { mime: 'image/png', bytes: Buffer.from('c') },
    });
    expect(updates()).toHaveLength(4);
    expect(updates()[3]?.args).toMatchObject({ ts: '200.1', text: expect.stringMatching(/is done/) });
    expect(limiter.waiting('T1')).toBe(1);

    // Stopping drops the edit that never got its turn.
    await events.stop();
    expect(limiter.waiting('T1')).toBe(0);
    expect(updates()).toHaveLength(4);
  });
});

describe('Slack: a progress edit rate-limited while its job ends', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = new FakeSlack('xoxb-retry');
    await slack.start();
  });
  afterAll(() => slack.close());

  it('lands before the final state, never after it', async () => {
    const events = createSlackEvents({
      client: new webApi.WebClient(slack.botToken, { slackApiUrl: slack.apiUrl }),
      config: { progressEveryMs: 0, previewsPerJob: 0 },
      log,
      saveRefs: async () => {},
    });
    const view = job(9, 'slack', 'T9', {
      threadId: '100.9',
      chatRefs: JSON.stringify({ progressTs: '200.9' }),
    });
    // Slack answers the progress edit with a 429; the Web API client waits out its Retry-After and sends it again.
    slack.rateLimited.set('chat.update', { times: 1, retryAfter: 2 });
    await events.progress(view, progress);
    await until(() => slack.limitedCalls.length === 1);
    await events.completed(view, {
      result: { mime: 'image/png', bytes: Buffer.from('r') },
      comparison: { mime: 'image/png', bytes: Buffer.from('c') },
    });
    const edits = () => slack.callsOf('chat.update').filter((c) => c.args.ts === '200.9');
    // Both edits are made (the retried one at most a Retry-After later); the final state is the last one written.
    await until(() => edits().length === 2);
    expect(edits().map((c) => /is done/.test(String(c.args.text)))).toEqual([false, true]);
    await events.stop();
  });
});

describe('Discord: progress edits per channel', () => {
  const GENERAL = '100000000000000001';
  const ART = '100000000000000002';
  let fake: FakeDiscord;
  let rest: REST;
  beforeAll(async () => {
    fake = await FakeDiscord.start({
      guilds: [
        {
          channels: [
            { id: GENERAL, name: 'general' },
            { id: ART, name: 'art' },
          ],
        },
      ],
    });
    rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
  });
  afterAll(() => fake.close());

  it('holds a busy channel’s edits and no other’s; a job’s end does not wait behind them', async () => {
    // Each job's reply is its progress message (no thread), posted by the bot beforehand.
    const discordJob = async (id: number, channel: string) => {
      const message = (await rest.post(Routes.channelMessages(channel), {
        body: { content: `job ${id}` },
      })) as {
        id: string;
      };
      const refs = {
        channelId: channel,
        replyId: message.id,
        threadId: null,
        progressChannelId: channel,
        progressId: message.id,
        uploadLimit: 10 * 1024 * 1024,
      };
      return {
        view: job(id, 'discord', fake.guildId, { chatRefs: encodeRefs('discord', refs) }),
        messageId: message.id,
      };
    };
    const [one, two, three] = [
      await discordJob(1, GENERAL),
      await discordJob(2, GENERAL),
      await discordJob(3, ART),
    ];
    const limiter = writeLimiter({ intervalCap: 1, interval: WINDOW_MS });
    const events = discordEvents({
      core: {} as Core,
      rest,
      log,
      progressEditMs: 0,
      setups: new Setups(),
      limiter,
    });
    const since = fake.mark();
    const edited = () => fake.filter((r) => r.method === 'PATCH', since).map((r) => r.path.split('/').at(-1));

    // Two jobs in #general, one in #art: #general takes one edit per window, #art is not held up by it.
    for (const j of [one, two, three]) await events.progress(j.view, progress);
    await until(() => edited().length === 2 && limiter.waiting(GENERAL) === 1);
    expect(edited()).toEqual([one.messageId, three.messageId]);

    // Job 1 fails while job 2's edit waits for the window: the failure is shown at once.
    await events.failed({ ...one.view, status: 'failed' }, 'The painting failed.');
    expect(edited()).toEqual([one.messageId, three.messageId, one.messageId]);
    expect(limiter.waiting(GENERAL)).toBe(1);

    // Stopping drops the edit that never got its turn.
    await events.stop();
    expect(limiter.waiting(GENERAL)).toBe(0);
    expect(edited()).toHaveLength(3);
  });

  it('a progress edit rate-limited while its job ends lands before the final state, never after it', async () => {
    const message = (await rest.post(Routes.channelMessages(GENERAL), { body: { content: 'job 8' } })) as {
      id: string;
    };
    const refs = {
      channelId: GENERAL,
      replyId: message.id,
      threadId: null,
      progressChannelId: GENERAL,
      progressId: message.id,
      uploadLimit: 10 * 1024 * 1024,
    };
    const view = job(8, 'discord', fake.guildId, { chatRefs: encodeRefs('discord', refs) });
    const events = discordEvents({ core: {} as Core, rest, log, progressEditMs: 0, setups: new Setups() });
    const edit = (r: { method: string; path: string }) => r.method === 'PATCH' && r.path.endsWith(message.id);
    const since = fake.mark();
    // Discord answers the progress edit with a 429; discord.js waits out its retry_after and sends it again.
    const limited = fake.rateLimit({ match: edit, retryAfter: 2 });
    await events.progress(view, progress);
    await until(() => limited.hits === 1);
    await events.completed(
      { ...view, status: 'succeeded' },
      {
        result: { mime: 'image/png', bytes: await tinyPng() },
        comparison: { mime: 'image/png', bytes: await tinyPng() },
      },
    );
    const made = () => fake.filter((r) => edit(r) && r.status === 200, since);
    await until(() => made().length === 2);
    expect(made().map((r) => r.files.length)).toEqual([0, 2]);
    expect(fake.message(message.id)?.attachments).toHaveLength(2);
    await events.stop();
  });
});

function tinyPng(): Promise<Buffer> {
  return sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
}

describe('Discord: a progress message over an hour old', () => {
  let fake: FakeDiscord;
  let rest: REST;
  beforeAll(async () => {
    fake = await FakeDiscord.start({ oldMessageMs: 60 * 60_000 });
    rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
  });
  afterAll(() => fake.close());

  it('goes on in a new message, said once, which the job’s end closes', async () => {
    const reply = (await rest.post(Routes.channelMessages(fake.channelId), {
      body: { content: 'job 5' },
    })) as {
      id: string;
    };
    const thread = (await rest.post(Routes.threads(fake.channelId, reply.id), {
      body: { name: 'job 5' },
    })) as {
      id: string;
    };
    const first = (await rest.post(Routes.channelMessages(thread.id), { body: { content: 'queued' } })) as {
      id: string;
    };
    const refs = {
      channelId: fake.channelId,
      replyId: reply.id,
      threadId: thread.id,
      progressChannelId: thread.id,
      progressId: first.id,
      uploadLimit: 10 * 1024 * 1024,
    };
    const view = job(5, 'discord', fake.guildId, { chatRefs: encodeRefs('discord', refs) });
    const events = discordEvents({ core: {} as Core, rest, log, progressEditMs: 0, setups: new Setups() });
    fake.backdate(first.id, 2 * 60 * 60_000);
    const inThread = () => fake.channelMessages(thread.id);

    await events.progress(view, progress);
    await until(() => inThread().length === 3);
    await events.progress(view, { ...progress, iteration: 20 });
    await until(() => /20/.test(inThread()[2]!.content));
    await events.completed(
      { ...view, status: 'succeeded' },
      {
        result: { mime: 'image/png', bytes: await tinyPng() },
        comparison: { mime: 'image/png', bytes: await tinyPng() },
      },
    );
    const messages = inThread();
    expect(messages).toHaveLength(4);
    expect(messages[0]!.content).toBe('queued');
    expect(messages[1]!.content).toMatch(/over an hour old/);
    expect(messages[2]!.content).toMatch(/Done/);
    expect(messages[3]!.attachments).toHaveLength(2);
    await events.stop();
  });
});
