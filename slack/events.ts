import { progressEdits } from '../chat/progress-edits.ts';
import { type WriteLimiter, type WriteRate, writeLimiter } from '../chat/write-limiter.ts';
import type { Logger } from '../lib/log.ts';
import type {
  FinalDelivery,
  JobEvents,
  JobProgress,
  JobView,
  ResultImages,
  StoredImage,
  VariationKind,
} from '../rules/index.ts';
import type { SlackConfig } from './config.ts';
import {
  cancelledMessage,
  completedMessage,
  failedMessage,
  failedReply,
  previewComment,
  progressMessage,
  queuedMessage,
  resultComment,
} from './render.ts';
import type { SlackClient, SlackMessage } from './slack-types.ts';

/**
 * The core's JobEvents for Slack jobs: one progress message per job in the job's thread, edited as the job
 * advances, then the two images posted in the thread. What the bot needs to find its messages again after a
 * restart is in the job (its thread is the request message; chatRefs holds the progress message's ts and what
 * has been posted), so nothing is kept in memory that a restart would lose.
 *
 * Nothing here waits long on the notifier's behalf: progress is throttled per job (at most one chat.update per
 * `progressEveryMs`, the latest state winning: see progress-edits.ts) and written in the background; the end of a
 * job waits for that job's progress write under way, then is written before the call returns. A job's end passed
 * on again (`resumed`: the bot stopped while posting it, before it recorded `done`) first reads the thread
 * (conversations.replies) for the bot's result files or failure message, and posts only what is not there; the
 * progress message is updated again, which changes nothing the second time. Progress edits are limited per
 * workspace below Slack's rate for chat.update, which leaves room for the updates that end a job (they do not
 * wait there).
 *
 * Previews: editing the progress message cannot show a new image without a public image URL, and a file per
 * progress update would flood the thread, so the preview is posted in the thread only `previewsPerJob` times
 * per job, evenly spaced (one at halfway by default); the progress message shows a bar, the iteration and the
 * time left.
 */
export interface SlackRefs {
  /** The progress message in the job's thread. */
  progressTs: string;
  /** Previews already posted in the thread. */
  previews?: number;
  /** The result has been posted (the event is not acted on twice). */
  done?: boolean;
}

export function parseRefs(chatRefs: string | null): SlackRefs | undefined {
  if (!chatRefs) return undefined;
  try {
    const raw = JSON.parse(chatRefs) as Partial<SlackRefs>;
    return typeof raw.progressTs === 'string' ? (raw as SlackRefs) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Progress edits (chat.update) per workspace: Slack rates chat.update Tier 3, 50+ a minute per app and workspace,
 * with sporadic bursts welcome (https://api.slack.com/apis/rate-limits); edits take 40, the rest is left to jobs'
 * ends. Without this, 20 live jobs make about 400 a minute.
 */
export const UPDATE_RATE: WriteRate = { intervalCap: 40, interval: 60_000 };

/** The replies of a job's thread read for what an earlier delivery of its end posted (one page of them). */
const THREAD_LOOKBACK = 200;

export interface SlackJobEvents extends JobEvents {
  /**
   * Called by the /stylize flow once it has posted a request message and before it submits the job that will
   * have that message as its thread: events of the job that arrive before its progress message is posted and
   * recorded wait for it. The flow resolves it with the refs, or with undefined when it gave up (no job, or the
   * thread could not be posted: the events then post the progress message themselves).
   */
  expect(threadTs: string): { resolve(refs: SlackRefs | undefined): void };
  /** Stops the timers and waits for the writes under way. */
  stop(): Promise<void>;
}

export function createSlackEvents(deps: {
  /** Records the refs in the job (setChatRefs), so that a restarted bot finds its messages. */
  saveRefs(job: JobView, refs: SlackRefs): Promise<void>;
  client: SlackClient;
  config: Pick<SlackConfig, 'progressEveryMs' | 'previewsPerJob'>;
  log: Logger;
  /** Default: one at {@link UPDATE_RATE} per workspace. */
  limiter?: WriteLimiter;
  /** The variations a finished painting offers now (the core's variationChoices): its buttons. None without. */
  variations?: (job: JobView) => Promise<VariationKind[]>;
}): SlackJobEvents {
  const { client, config, log } = deps;
  const limiter = deps.limiter ?? writeLimiter(UPDATE_RATE);
  /** The refs of the jobs under way, as last saved. */
  const known = new Map<number, SlackRefs>();
  /** By thread ts: the progress messages the /stylize flow is posting. */
  const expected = new Map<string, Promise<SlackRefs | undefined>>();
  /** Ends being written, for stop() to wait for. */
  const ends = new Set<Promise<void>>();
  let stopped = false;

  const fields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: 'slack' });

  async function saveRefs(job: JobView, refs: SlackRefs): Promise<void> {
    known.set(job.id, refs);
    await deps.saveRefs(job, refs);
  }

  /** chat.update; a progress edit waits its turn in the workspace's limiter, and gives up if its job ends. */
  function update(job: JobView, ts: string, message: SlackMessage, ended?: AbortSignal): Promise<unknown> {
    const call = () => client.chat.update({ channel: job.channelId, ts, ...message });
    return ended ? limiter.run(job.server, call, { signal: ended }) : call();
  }

  /** The job's progress message: known, recorded, being posted by /stylize, or (lost) posted anew. */
  async function refsFor(job: JobView): Promise<SlackRefs> {
    const held = known.get(job.id);
    if (held) return held;
    const pending = job.threadId ? expected.get(job.threadId) : undefined;
    const recorded = parseRefs(job.chatRefs) ?? (await pending);
    if (recorded) {
      known.set(job.id, recorded);
      return recorded;
    }
    const message = queuedMessage(job, null, null);
    const posted = await client.chat.postMessage({
      channel: job.channelId,
      ...(job.threadId ? { thread_ts: job.threadId } : {}),
      ...message,
    });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    const refs = { progressTs: posted.ts };
    await saveRefs(job, refs);
    return refs;
  }

  const threadOf = (job: JobView, refs: SlackRefs) => job.threadId ?? refs.progressTs;

  async function writeProgress(job: JobView, progress: JobProgress, ended: AbortSignal): Promise<void> {
    const refs = await refsFor(job);
    if (refs.done || ended.aborted) return;
    await update(job, refs.progressTs, progressMessage(job, progress), ended);
    const posted = refs.previews ?? 0;
    const due = Math.floor(
      (progress.iteration / Math.max(1, progress.iterations)) * (config.previewsPerJob + 1),
    );
    if (progress.preview && posted < config.previewsPerJob && due > posted) {
      // Recorded first: a bot killed after Slack accepted the upload must not upload it again at its restart.
      await saveRefs(job, { ...refs, previews: Math.max(posted + 1, Math.min(due, config.previewsPerJob)) });
      await client.files.uploadV2({
        channel_id: job.channelId,
        thread_ts: threadOf(job, refs),
        initial_comment: previewComment(job, progress),
        file_uploads: [
          { file: progress.preview.bytes, filename: imageName(`preview-${job.id}`, progress.preview) },
        ],
      });
    }
  }

  const edits = progressEdits<{ job: JobView; progress: JobProgress }>({
    intervalMs: config.progressEveryMs,
    edit: (_jobId, { job, progress }, ended) =>
      writeProgress(job, progress, ended).catch((error: unknown) => {
        // An edit the job's end overtook is simply not made.
        if (!ended.aborted) {
          log.error(
            { ...fields(job), err: slackError(error) },
            'slack: could not update the progress message',
          );
        }
      }),
  });

  let me: Promise<{ userId?: string | undefined; botId?: string | undefined }> | undefined;
  /** Who the bot is (auth.test), asked once: its messages are told apart from members' in a thread by it. */
  function botIdentity() {
    me ??= client.auth.test().then((who) => ({ userId: who.user_id, botId: who.bot_id }));
    me.catch(() => {
      me = undefined;
    });
    return me;
  }

  /**
   * Whether the bot's replies in the job's thread already hold a message that `posted` recognises (a resumed
   * delivery's earlier attempt posted it). Without the history scope the thread cannot be read: the end is posted
   * again, as a repeat is better than a result lost, and the log names the scope.
   */
  async function inThread(
    job: JobView,
    refs: SlackRefs,
    posted: (message: SlackReply) => boolean,
  ): Promise<boolean> {
    try {
      const [bot, replies] = await Promise.all([
        botIdentity(),
        client.conversations.replies({
          channel: job.channelId,
          ts: threadOf(job, refs),
          limit: THREAD_LOOKBACK,
        }),
      ]);
      return (replies.messages ?? []).some(
        (m) => (m.user === bot.userId || (bot.botId !== undefined && m.bot_id === bot.botId)) && posted(m),
      );
    } catch (error) {
      log.warn(
        { ...fields(job), err: slackError(error) },
        'slack: could not read the thread (the app needs channels:history and groups:history); posting the end again',
      );
      return false;
    }
  }

  /** The end of a job: its progress write under way first, pending ones dropped, then `write`, once. */
  async function end(job: JobView, what: string, write: (refs: SlackRefs) => Promise<void>): Promise<void> {
    if (stopped || !(await edits.end(job.id))) return;
    const writing = (async () => {
      try {
        const refs = await refsFor(job);
        if (!refs.done) await write(refs);
      } catch (error) {
        log.error({ ...fields(job), err: slackError(error) }, `slack: could not ${what}`);
      } finally {
        known.delete(job.id);
        if (job.threadId) expected.delete(job.threadId);
      }
    })();
    ends.add(writing);
    await writing;
    ends.delete(writing);
  }

  return {
    expect(threadTs) {
      let resolve: (refs: SlackRefs | undefined) => void = () => {};
      expected.set(
        threadTs,
        new Promise((r) => {
          resolve = r;
        }),
      );
      return {
        resolve(refs) {
          resolve(refs);
          if (!refs) expected.delete(threadTs);
        },
      };
    },

    async progress(job, progress) {
      edits.report(job.id, { job, progress });
    },

    completed: (job, images, delivery?: FinalDelivery) =>
      end(job, 'post the result', async (refs) => {
        const files = resultFiles(job, images);
        const result = files[0]!.filename;
        const uploaded =
          delivery?.resumed &&
          (await inThread(job, refs, (m) => (m.files ?? []).some((f) => f.name === result)));
        if (!uploaded) {
          await client.files.uploadV2({
            channel_id: job.channelId,
            thread_ts: threadOf(job, refs),
            initial_comment: resultComment(job),
            file_uploads: files,
          });
        }
        const done = { ...refs, done: true };
        await saveRefs(job, done);
        const choices = await (deps.variations?.(job) ?? Promise.resolve([])).catch((error: unknown) => {
          log.warn({ ...fields(job), err: slackError(error) }, 'slack: no variation buttons');
          return [];
        });
        await update(job, refs.progressTs, completedMessage(job, choices));
      }),

    failed: (job, message, delivery?: FinalDelivery) =>
      end(job, 'report the failure', async (refs) => {
        await update(job, refs.progressTs, failedMessage(job, message));
        const text = failedReply(job, message);
        if (!delivery?.resumed || !(await inThread(job, refs, (m) => m.text === text))) {
          await client.chat.postMessage({ channel: job.channelId, thread_ts: threadOf(job, refs), text });
        }
        await saveRefs(job, { ...refs, done: true });
      }),

    // Updates only: a resumed delivery makes them again.
    cancelled: (job) =>
      end(job, 'report the cancellation', async (refs) => {
        await update(job, refs.progressTs, cancelledMessage(job));
        await saveRefs(job, { ...refs, done: true });
      }),

    async stop() {
      stopped = true;
      await edits.stop();
      await Promise.allSettled([...ends]);
    },
  };
}

/** What the end of a job is recognised by among a thread's replies (conversations.replies). */
interface SlackReply {
  user?: string | undefined;
  bot_id?: string | undefined;
  text?: string | undefined;
  files?: { name?: string | undefined }[] | undefined;
}

function imageName(base: string, image: StoredImage): string {
  return `${base}.${image.mime === 'image/png' ? 'png' : 'jpg'}`;
}

function resultFiles(job: JobView, images: ResultImages) {
  return [
    {
      file: images.result.bytes,
      filename: imageName(`painting-${job.id}`, images.result),
      title: `Job ${job.id}: the painting`,
    },
    {
      file: images.comparison.bytes,
      filename: imageName(`side-by-side-${job.id}`, images.comparison),
      title: `Job ${job.id}: photo, painting and result`,
    },
  ];
}

/** What is worth logging of a Web API error: its code and Slack's error name, never the request. */
export function slackError(error: unknown): { message: string; code?: string; slack?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & { code?: string; data?: { error?: string } };
  return {
    message: e.message,
    ...(e.code ? { code: e.code } : {}),
    ...(e.data?.error ? { slack: e.data.error } : {}),
  };
}
