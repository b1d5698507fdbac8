/**
 * A painting's result is posted once even when the bot dies between the platform taking the post and the bot
 * recording it: the bot (bot/main.ts, both platforms on the fakes of test/discord and test/slack) is killed
 * while Discord's message create and Slack's upload have been carried out but not answered; the restarted bot
 * finds them in the jobs' threads, posts nothing again, finishes the rest (the reply's link, the progress
 * messages) and records the delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRefs } from '../chat/refs.ts';
import type { Core } from '../jobs/core.ts';
import { claimJob } from '../jobs/scheduler.ts';
import type { Platform } from '../jobs/servers.ts';
import { asset } from './assets.ts';
import {
  type Child,
  createTestDatabase,
  finishJob,
  logLines,
  PAINTS_ANY,
  picture,
  spawnProcess,
  stopProcess,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';
import { alice, chatEnv, discordAnswer, type Platforms, platforms, SEND, slackMember } from './platforms.ts';

describe('a result posted when the bot was killed, before it recorded the post', () => {
  let db: TestDatabase;
  let core: Core;
  let fakes: Platforms;
  const bots: Child[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    fakes = await platforms();
    core = await testCore(db);
  });
  afterAll(async () => {
    for (const bot of bots) await stopProcess(bot, 'SIGKILL');
    await core?.close();
    await fakes?.discord.close();
    await fakes?.slack.close();
    await db?.drop();
  });

  function startBot(): Child {
    const bot = spawnProcess(
      'bot/main.ts',
      testEnv(db, {
        BOT_WORKERS: '0',
        PRESETS_DIR: asset('styles'),
        // A final state whose posting was not recorded is taken up again after 1.5 s.
        HEARTBEAT_MS: '200',
        STALE_AFTER_MS: '1500',
        ...chatEnv(fakes),
      }),
    );
    bots.push(bot);
    return bot;
  }

  const row = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });

  /** The test paints: the job claimed, and two pictures stored as its result. */
  async function paint(jobId: number): Promise<void> {
    const lease = await claimJob(core.db, `test-worker-${jobId}`, core.config.limits, PAINTS_ANY);
    expect(lease?.jobId).toBe(jobId);
    await finishJob(core, lease!);
  }

  it('is not posted again on Discord or Slack by the restarted bot, which records it', async () => {
    const { discord, slack } = fakes;
    const first = startBot();
    await discord.waitForSession(60_000);
    const port = await waitFor('the Slack app', async () => {
      const line = logLines(first.output(), 'slack app listening')[0];
      return line?.port as number | undefined;
    });

    const shown = async (platform: Platform) =>
      waitFor(`the ${platform} job's messages`, async () => {
        const job = await core.db.prisma.job.findFirst({ where: { server: { platform } } });
        const refs = decodeRefs(platform, job?.chatRefs ?? null);
        return job && refs ? { job, refs } : undefined;
      });

    // A member on each platform asks for a painting; the bot sets up the reply, the thread and its messages. The
    // Discord job is queued after its deferred answer, so the Slack form is sent only once it is: the jobs are
    // claimed in the order they were queued, and each is painted by the claim made for it.
    expect((await discordAnswer(discord, await picture(1, 40, 30))).type).toBe(5);
    const onDiscord = await shown('discord');
    const member = slackMember(slack, () => `http://127.0.0.1:${port}/slack/events`);
    expect(await member.send(await member.openForm(), await picture(2, 40, 30))).toMatch(
      /Your painting is job/,
    );
    const onSlack = await shown('slack');
    const thread = (onDiscord.refs as { threadId: string }).threadId;
    expect(thread).toBeTruthy();

    // Both platforms take the final post, and the bot never hears back.
    const finalPost = (r: { route: string; params: Record<string, string>; files: unknown[] }) =>
      r.route === SEND && r.params.channelId === thread && r.files.length === 2;
    discord.intercept({ match: finalPost, unanswered: true });
    slack.unanswered.add('files.completeUploadExternal');
    await paint(onDiscord.job.id);
    await paint(onSlack.job.id);
    await discord.waitFor(finalPost, 30_000);
    await slack.waitForCall('files.completeUploadExternal', (c) => (c.args.files as unknown[]).length === 2);
    first.process.kill('SIGKILL');
    await first.exited;
    for (const job of [onDiscord.job, onSlack.job]) {
      const left = await row(job.id);
      expect({ posting: left.deliveringAt !== null, posted: left.deliveredAt }).toEqual({
        posting: true,
        posted: null,
      });
    }

    const again = startBot();
    await waitFor(
      'both posts recorded',
      async () =>
        (await row(onDiscord.job.id)).deliveredAt !== null &&
        (await row(onSlack.job.id)).deliveredAt !== null,
      60_000,
    );
    await stopProcess(again);

    // Discord: one final message in the thread, which the reply now links to.
    const finals = discord.channelMessages(thread).filter((m) => m.attachments.length === 2);
    expect(finals).toHaveLength(1);
    expect(discord.filter(finalPost)).toHaveLength(1);
    const { replyId } = onDiscord.refs as { replyId: string };
    const reply = discord.channelMessages(discord.channelId).find((m) => m.id === replyId);
    expect(reply?.content).toContain(`/${thread}/${finals[0]!.id}`);
    // Slack: one upload of the painting in the thread, and the progress message closed.
    const painting = `painting-${onSlack.job.id}.png`;
    const uploads = slack.messages.filter((m) => m.files?.some((f) => f.name === painting));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.channel).toBe(alice.channelId);
    expect(slack.callsOf('conversations.replies').length).toBeGreaterThan(0);
    const progressTs = (onSlack.refs as { progressTs: string }).progressTs;
    expect(
      slack
        .callsOf('chat.update')
        .some((c) => c.args.ts === progressTs && /done|finished/i.test(String(c.args.text))),
    ).toBe(true);
    expect(again.output()).toContain('a final state whose posting was not recorded');
  }, 180_000);
});
