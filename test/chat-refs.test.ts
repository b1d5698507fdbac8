/**
 * The message ids stored with a job (chat/refs.ts) and the wait for them while the adapter is still posting its
 * messages (chat/setups.ts). Rows stored before the versioned format are written here as the earlier code wrote
 * them, character for character, and read through each adapter's events as a deployed database would hold them.
 */
import type { REST } from '@discordjs/rest';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type DiscordRefs, decodeRefs, encodeRefs, type SlackRefs } from '../chat/refs.ts';
import { Setups } from '../chat/setups.ts';
import { discordEvents } from '../discord/events.ts';
import type { Core } from '../rules/index.ts';
import { createSlackEvents } from '../slack/events.ts';
import type { SlackClient } from '../slack/slack-types.ts';
import { jobView } from './job-views.ts';

const log = pino({ level: 'silent' });

const discordRefs: DiscordRefs = {
  channelId: '10',
  replyId: '20',
  threadId: '25',
  progressChannelId: '25',
  progressId: '30',
  uploadLimit: 8 * 1024 * 1024,
  result: { channelId: '25', messageId: '40' },
};
/** As discord/refs.ts wrote them (a zod schema with `v: 1`). */
const discordV1 =
  '{"v":1,"channelId":"10","replyId":"20","threadId":"25","progressChannelId":"25","progressId":"30",' +
  '"uploadLimit":8388608,"result":{"channelId":"25","messageId":"40"}}';
/** As the Slack adapter wrote them (JSON.stringify of its refs, no version). */
const slackUnversioned = '{"progressTs":"100.2","previews":1,"done":true}';

describe('stored message ids', () => {
  it('are written in one versioned format for both platforms, and read back', () => {
    const onDiscord = encodeRefs('discord', discordRefs);
    const onSlack = encodeRefs('slack', { progressTs: '100.2', previews: 1 });
    expect(JSON.parse(onDiscord)).toEqual({ v: 2, platform: 'discord', ...discordRefs });
    expect(JSON.parse(onSlack)).toEqual({ v: 2, platform: 'slack', progressTs: '100.2', previews: 1 });
    expect(decodeRefs('discord', onDiscord)).toEqual(discordRefs);
    expect(decodeRefs('slack', onSlack)).toEqual({ progressTs: '100.2', previews: 1 });
    // Each platform reads its own rows only.
    expect(decodeRefs('slack', onDiscord)).toBeUndefined();
    expect(decodeRefs('discord', onSlack)).toBeUndefined();
  });

  it('read the rows stored before the version: Discord v1 and Slack unversioned', () => {
    expect(decodeRefs('discord', discordV1)).toEqual(discordRefs);
    expect(decodeRefs('slack', slackUnversioned)).toEqual({ progressTs: '100.2', previews: 1, done: true });
    expect(decodeRefs('slack', '{"progressTs":"100.2"}')).toEqual({ progressTs: '100.2' });
    expect(decodeRefs('slack', discordV1)).toBeUndefined();
    expect(decodeRefs('discord', slackUnversioned)).toBeUndefined();
    // Written again, an old row takes the current form.
    expect(JSON.parse(encodeRefs('discord', decodeRefs('discord', discordV1)!))).toMatchObject({ v: 2 });
  });

  it('are undefined where there are none or they cannot be read, and refuse to write what is not refs', () => {
    for (const stored of [
      null,
      '',
      'not json',
      '[]',
      '{"v":3,"platform":"slack","progressTs":"1.2"}',
      '{"v":2,"progressTs":"1.2"}',
      '{"v":1,"progressTs":"1.2"}',
      '{"progressTs":12}',
      '{"v":1,"channelId":"10"}',
    ]) {
      expect(decodeRefs('discord', stored), stored ?? 'null').toBeUndefined();
      expect(decodeRefs('slack', stored), stored ?? 'null').toBeUndefined();
    }
    expect(() => encodeRefs('discord', { ...discordRefs, uploadLimit: 0 })).toThrow();
    expect(() => encodeRefs('slack', {} as SlackRefs)).toThrow();
  });

  it('stored by the earlier Discord adapter are the messages its events end', async () => {
    const calls: { method: string; route: string }[] = [];
    const record = (method: string) => async (route: string) => {
      calls.push({ method, route });
      return { id: '50' };
    };
    const rest = { post: record('post'), patch: record('patch') } as unknown as REST;
    const events = discordEvents({ core: {} as Core, rest, log, progressEditMs: 0, setups: new Setups() });
    await events.cancelled(jobView({ status: 'cancelled', chatRefs: discordV1 }));
    expect(calls).toEqual([
      { method: 'post', route: '/channels/25/messages' },
      { method: 'patch', route: '/channels/25/messages/30' },
      { method: 'patch', route: '/channels/10/messages/20' },
    ]);
    await events.stop();
  });

  it('stored by the earlier Slack adapter are the messages its events end, and they are written anew', async () => {
    const calls: { method: string; ts?: unknown }[] = [];
    const client = {
      chat: {
        update: async (args: { ts: string }) => {
          calls.push({ method: 'chat.update', ts: args.ts });
          return { ok: true };
        },
      },
    } as unknown as SlackClient;
    const written: string[] = [];
    const start = () =>
      createSlackEvents({
        client,
        config: { progressEveryMs: 0, previewsPerJob: 1 },
        log,
        saveRefs: async (_job, refs) => {
          written.push(encodeRefs('slack', refs));
        },
      });
    const events = start();
    const job = jobView({
      platform: 'slack',
      threadId: '100.1',
      chatRefs: '{"progressTs":"100.2","previews":1}',
    });
    await events.cancelled({ ...job, status: 'cancelled' });
    expect(calls).toEqual([{ method: 'chat.update', ts: '100.2' }]);
    expect(written.map((w) => JSON.parse(w))).toEqual([
      { v: 2, platform: 'slack', progressTs: '100.2', previews: 1, done: true },
    ]);
    // A restarted bot told of the end again reads the row now stored: the end is not written twice.
    const again = start();
    await again.cancelled({ ...job, status: 'cancelled', chatRefs: written[0]! });
    expect(calls).toHaveLength(1);
    await events.stop();
    await again.stop();
  });
});

describe('waiting for the message ids of a job being set up', () => {
  const created = { createdAt: new Date() };
  const refs: SlackRefs = { progressTs: '1.1' };

  it('takes the stored ids first, then a set-up of this process', async () => {
    const setups = new Setups<string, SlackRefs>();
    expect(await setups.refsOf(created, { stored: refs, key: 'T' })).toBe(refs);
    const setup = setups.begin('T');
    const waiting = setups.refsOf(created, { stored: undefined, key: 'T' });
    setup.finish({ progressTs: '2.2' });
    expect(await waiting).toEqual({ progressTs: '2.2' });
    // A set-up that gave up leaves the job without ids, at once.
    setups.begin('U').finish(undefined);
    expect(await setups.refsOf(created, { stored: undefined, key: 'U' })).toBeUndefined();
  });

  it('gives a new set-up under the same key its own ids (a variation in its painting’s thread)', async () => {
    const setups = new Setups<string, SlackRefs>();
    setups.begin('T').finish(refs);
    const earlier = setups.begin('T');
    const later = setups.begin('T');
    const waiting = setups.refsOf(created, { stored: undefined, key: 'T' });
    // One begun before it, finishing after it began, does not give it its ids.
    earlier.finish({ progressTs: '2.2' });
    later.finish({ progressTs: '3.3' });
    expect(await waiting).toEqual({ progressTs: '3.3' });
  });

  it('without a set-up here, reads the job again until another process stored them', async () => {
    const setups = new Setups<number, SlackRefs>();
    let reads = 0;
    const reread = async () => (++reads >= 3 ? refs : undefined);
    expect(await setups.refsOf(created, { stored: undefined, key: 1, reread })).toBe(refs);
    expect(reads).toBe(3);
  });

  it('without a set-up here, takes one that begins after the first event', async () => {
    const setups = new Setups<number, SlackRefs>();
    const waiting = setups.refsOf(created, { stored: undefined, key: 1, reread: async () => undefined });
    setups.begin(1).finish(refs);
    expect(await waiting).toBe(refs);
  });

  it('does not wait for an old job, nor where nothing else can set it up, nor once stopped', async () => {
    const setups = new Setups<number, SlackRefs>();
    let reads = 0;
    const reread = async () => {
      reads++;
      return undefined;
    };
    const old = { createdAt: new Date(Date.now() - 10 * 60_000) };
    expect(await setups.refsOf(old, { stored: undefined, key: 1, reread })).toBeUndefined();
    expect(await setups.refsOf(created, { stored: undefined, key: 1 })).toBeUndefined();
    expect(reads).toBe(0);
    const stopping = new AbortController();
    const waiting = setups.refsOf(created, { stored: undefined, key: 1, reread, signal: stopping.signal });
    stopping.abort();
    expect(await waiting).toBeUndefined();
    expect(reads).toBeLessThanOrEqual(1);
  });
});
