/**
 * The core's JobEvents for Discord jobs: the progress message edited in place (at most once every
 * `progressEditMs` per job, only the latest state, never holding up the notifier: see progress-edits.ts), and at
 * the end the final message with the two images, the progress message closed and the command's reply edited to
 * link to it. Progress edits go through a per-channel limiter below Discord's rate, which leaves room for the
 * writes that end a job (they do not wait there). A job's end passed on again (`resumed`: a bot stopped while
 * posting it) first looks for its message among the bot's latest in the thread, and posts only if it is not
 * there; the edits are made again, as they change nothing the second time.
 *
 * Everything goes through the REST API with the bot token, by the ids stored with the job (ChatRefs), never by
 * the interaction token (which expires after 15 minutes) and never through discord.js's cache: so it works after
 * a restart and from a process without a gateway connection (the shard manager). A failed edit or send is
 * logged and the rest goes on.
 *
 * Discord refuses edits of messages over an hour old past a few (30046), which a job that waited long in the queue
 * meets: its progress then goes on in a new message in the same place, announced once, recorded with the job; a
 * final state that would have been an edit of such a message is posted instead.
 */
import type { REST } from '@discordjs/rest';
import { DiscordAPIError } from '@discordjs/rest';
import { type APIMessage, type APIUser, RESTJSONErrorCodes, Routes } from 'discord-api-types/v10';
import { progressEdits } from '../chat/progress-edits.ts';
import { type WriteLimiter, type WriteRate, writeLimiter } from '../chat/write-limiter.ts';
import type { Logger } from '../lib/log.ts';
import {
  type Core,
  type FinalDelivery,
  type JobEvents,
  type JobProgress,
  type JobView,
  jobStatus,
  setChatRefs,
  variationChoices,
} from '../rules/index.ts';
import { safeError } from './errors.ts';
import { fitToUpload } from './fit.ts';
import * as render from './job-messages.ts';
import { type ChatRefs, decodeRefs, encodeRefs, messageLink, type Setups } from './refs.ts';

export interface DiscordEvents extends JobEvents {
  /** Stops editing: pending progress edits are dropped, edits and posts under way are waited for. */
  stop(): Promise<void>;
}

export interface EventsDeps {
  core: Core;
  rest: REST;
  log: Logger;
  progressEditMs: number;
  setups: Setups;
  /** Default: one at {@link CHANNEL_RATE} per channel. */
  limiter?: WriteLimiter;
}

/**
 * Progress edits per channel: Discord's per-channel message bucket allows about 5 writes per 5 s (its headers say
 * so at run time); edits take 4, the fifth is left to a job's end. discord.js still waits out any 429 it meets;
 * this keeps the bot from meeting them when many jobs share a channel.
 */
export const CHANNEL_RATE: WriteRate = { intervalCap: 4, interval: 5_000 };

/** How long a job's events wait for its refs when it was just submitted and is still being set up. */
const SETUP_WAIT_MS = 20_000;
const SETUP_POLL_MS = 200;
/** Jobs older than this with no refs are not waited for (a restart lost their set-up). */
const RECENT_MS = 2 * 60_000;
/**
 * The latest messages of a job's thread searched for its final message before it is posted again. A job's thread
 * holds its progress message and its end; a hundred (one page) leaves room for members' replies.
 */
const THREAD_LOOKBACK = 100;

/** Discord's refusal to edit a message over an hour old (30046). */
const tooOldToEdit = (error: unknown) =>
  error instanceof DiscordAPIError &&
  error.code === RESTJSONErrorCodes.MaximumNumberOfEditsToMessagesOlderThanOneHourReached;

export function discordEvents(deps: EventsDeps): DiscordEvents {
  const { core, rest, log, setups } = deps;
  const limiter = deps.limiter ?? writeLimiter(CHANNEL_RATE);
  const tasks = new Set<Promise<unknown>>();
  /** Jobs whose progress went on in a new message (see above): its id. */
  const movedProgress = new Map<number, string>();
  let stopped = false;

  const fields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: job.platform });
  const track = <T>(promise: Promise<T>): Promise<T> => {
    tasks.add(promise);
    void promise.finally(() => tasks.delete(promise)).catch(() => {});
    return promise;
  };

  /** The job's message ids, with its progress message as it is now (see movedProgress). */
  async function refsFor(job: JobView): Promise<ChatRefs | undefined> {
    const refs = await setUpRefs(job);
    const progressId = movedProgress.get(job.id);
    return refs && progressId ? { ...refs, progressId } : refs;
  }

  /** The job's message ids: stored with it, or (just submitted) from the set-up in this or another process. */
  async function setUpRefs(job: JobView): Promise<ChatRefs | undefined> {
    const stored = decodeRefs(job.chatRefs);
    if (stored) return stored;
    const local = setups.get(job.id);
    if (local) return local;
    if (Date.now() - job.createdAt.getTime() > RECENT_MS) return undefined;
    const deadline = Date.now() + SETUP_WAIT_MS;
    while (Date.now() < deadline && !stopped) {
      await new Promise((resolve) => setTimeout(resolve, SETUP_POLL_MS));
      const pending = setups.get(job.id);
      if (pending) return pending;
      const report = await jobStatus(core, { platform: 'discord', id: job.server }, job.id).catch(() => null);
      const refs = decodeRefs(report?.job.chatRefs ?? null);
      if (refs) return refs;
    }
    return undefined;
  }

  async function send(channelId: string, spec: render.MessageSpec): Promise<{ id: string }> {
    return (await rest.post(Routes.channelMessages(channelId), render.toRest(spec))) as { id: string };
  }

  let me: Promise<string> | undefined;
  /** The bot's user id (GET /users/@me), asked once. */
  function botId(): Promise<string> {
    me ??= (rest.get(Routes.user('@me')) as Promise<APIUser>).then((user) => user.id);
    me.catch(() => {
      me = undefined;
    });
    return me;
  }

  /**
   * Sends `spec` in the channel, unless this is a resumed delivery and the bot's latest messages there already
   * hold one with its text (an earlier delivery posted it before the bot stopped): that one is returned.
   */
  async function sendOnce(
    channelId: string,
    spec: render.MessageSpec,
    delivery: FinalDelivery | undefined,
  ): Promise<{ id: string }> {
    if (delivery?.resumed) {
      const [bot, latest] = await Promise.all([
        botId(),
        rest.get(Routes.channelMessages(channelId), {
          query: new URLSearchParams({ limit: String(THREAD_LOOKBACK) }),
        }) as Promise<APIMessage[]>,
      ]);
      const { content } = render.toRest(spec).body;
      const posted = latest.find((m) => m.author.id === bot && m.content === content);
      if (posted) return posted;
    }
    return send(channelId, spec);
  }

  async function edit(
    channelId: string,
    messageId: string,
    spec: render.MessageSpec,
    progress?: { ended: AbortSignal },
  ): Promise<void> {
    const patch = () => rest.patch(Routes.channelMessage(channelId, messageId), render.toRest(spec));
    await (progress ? limiter.run(channelId, patch, { signal: progress.ended }) : patch());
  }

  /** Runs one Discord call; a failure is logged (its safe fields only) and swallowed. */
  async function attempt<T>(job: JobView, what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      log.warn({ ...fields(job), err: safeError(error) }, `discord: could not ${what}`);
      return undefined;
    }
  }

  /**
   * Edits `messageId`, or, where Discord no longer lets it be edited (over an hour old), posts `spec` in the same
   * channel: what it says is not lost.
   */
  async function editOrPost(channelId: string, messageId: string, spec: render.MessageSpec): Promise<void> {
    await edit(channelId, messageId, spec).catch(async (error: unknown) => {
      if (!tooOldToEdit(error)) throw error;
      await send(channelId, spec);
    });
  }

  /** The progress goes on in a new message below a line that says why; recorded for a restarted bot. */
  async function moveProgress(job: JobView, refs: ChatRefs, spec: render.MessageSpec): Promise<void> {
    await send(refs.progressChannelId, { content: render.messages.progressMoved });
    const posted = await send(refs.progressChannelId, spec);
    movedProgress.set(job.id, posted.id);
    log.info(fields(job), 'discord: the progress message is over an hour old; progress goes on in a new one');
    const chatRefs = encodeRefs({ ...refs, progressId: posted.id });
    await attempt(job, 'record the new progress message', () =>
      setChatRefs(core, { platform: 'discord', id: job.server }, job.id, { chatRefs }),
    );
  }

  const edits = progressEdits<{ job: JobView; progress: JobProgress }>({
    intervalMs: deps.progressEditMs,
    edit: async (_jobId, { job, progress }, ended) => {
      const refs = await refsFor(job);
      if (!refs || ended.aborted) return;
      const spec = render.progressRunning(job, progress, Date.now());
      await edit(refs.progressChannelId, refs.progressId, spec, { ended })
        .catch((error: unknown) => {
          if (tooOldToEdit(error) && !ended.aborted) return moveProgress(job, refs, spec);
          throw error;
        })
        .catch((error: unknown) => {
          // An edit the job's end overtook is simply not made.
          if (!ended.aborted)
            log.warn(
              { ...fields(job), err: safeError(error) },
              'discord: could not edit the progress message',
            );
        });
    },
  });

  /** Ends a job's progress (pending edits dropped, the one under way finished) before its final messages. */
  async function end(job: JobView): Promise<ChatRefs | undefined> {
    if (!(await edits.end(job.id))) return undefined;
    const refs = await refsFor(job);
    if (!refs) log.warn(fields(job), 'discord: no messages recorded for this job; its end is not shown');
    return refs;
  }

  async function completed(
    job: JobView,
    images: Parameters<JobEvents['completed']>[1],
    delivery?: FinalDelivery,
  ): Promise<void> {
    const refs = await end(job);
    if (!refs) return;
    const files = await fitToUpload(
      [
        { baseName: `painting-${job.id}`, image: images.result },
        { baseName: `comparison-${job.id}`, image: images.comparison },
      ],
      refs.uploadLimit,
    );
    const choices = await variationChoices(core, job).catch((error: unknown) => {
      log.warn({ ...fields(job), err: safeError(error) }, 'discord: no variation buttons');
      return [];
    });
    const final = render.finalMessage(job, files, choices);
    const threaded = refs.threadId !== null;
    const posted = threaded
      ? await attempt(job, 'post the final images in the thread', () =>
          sendOnce(refs.threadId!, final, delivery),
        )
      : undefined;
    if (refs.progressId !== refs.replyId) {
      await attempt(job, 'close the progress message', () =>
        edit(refs.progressChannelId, refs.progressId, render.progressEnded(job, 'done')),
      );
    }
    let result: ChatRefs['result'];
    if (posted) {
      result = { channelId: refs.threadId!, messageId: posted.id };
      const link = messageLink(job.server, refs.threadId!, posted.id);
      await attempt(job, 'link the reply to the images', () =>
        edit(refs.channelId, refs.replyId, render.replyDone(job, link)),
      );
    } else {
      // No thread, or posting there failed: the reply itself carries the images.
      const reply = { ...render.replyDone(job, null), files: final.files!, components: final.components! };
      const shown = await attempt(job, 'put the images in the reply', async () => {
        await editOrPost(refs.channelId, refs.replyId, reply);
        return true;
      });
      if (shown) result = { channelId: refs.channelId, messageId: refs.replyId };
    }
    // Recorded for the member's history (/stylize-history), which links to the painting while it is kept.
    if (result) {
      const chatRefs = encodeRefs({ ...refs, result });
      await attempt(job, 'record where the painting is', () =>
        setChatRefs(core, { platform: 'discord', id: job.server }, job.id, { chatRefs }),
      );
    }
    log.info(fields(job), 'discord: painting delivered');
  }

  async function failed(job: JobView, message: string, delivery?: FinalDelivery): Promise<void> {
    const refs = await end(job);
    if (!refs) return;
    if (refs.threadId !== null) {
      await attempt(job, 'post the failure', () =>
        sendOnce(refs.threadId!, render.failedMessage(job, message), delivery),
      );
    }
    if (refs.progressId !== refs.replyId) {
      await attempt(job, 'close the progress message', () =>
        edit(refs.progressChannelId, refs.progressId, render.progressEnded(job, 'failed')),
      );
    }
    await attempt(job, 'edit the reply', () =>
      (refs.threadId === null ? editOrPost : edit)(
        refs.channelId,
        refs.replyId,
        render.replyFailed(job, message),
      ),
    );
  }

  async function cancelled(job: JobView, delivery?: FinalDelivery): Promise<void> {
    const refs = await end(job);
    if (!refs) return;
    if (refs.threadId !== null) {
      await attempt(job, 'post the cancellation', () =>
        sendOnce(refs.threadId!, render.cancelledMessage(job), delivery),
      );
    }
    if (refs.progressId !== refs.replyId) {
      await attempt(job, 'close the progress message', () =>
        edit(refs.progressChannelId, refs.progressId, render.progressEnded(job, 'cancelled')),
      );
    }
    await attempt(job, 'edit the reply', () =>
      (refs.threadId === null ? editOrPost : edit)(refs.channelId, refs.replyId, render.replyCancelled(job)),
    );
  }

  /** A job's end, waited for by stop(); none once stopped. */
  const ending =
    <A extends unknown[]>(handler: (job: JobView, ...args: A) => Promise<void>) =>
    async (job: JobView, ...args: A): Promise<void> => {
      if (stopped) return;
      await track(handler(job, ...args));
    };

  return {
    async progress(job, progress) {
      edits.report(job.id, { job, progress });
    },
    completed: ending(completed),
    failed: ending(failed),
    cancelled: ending(cancelled),
    async stop() {
      stopped = true;
      await edits.stop();
      await Promise.allSettled([...tasks]);
    },
  };
}
