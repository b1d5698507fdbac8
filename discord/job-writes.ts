import type { REST } from '@discordjs/rest';
import { DiscordAPIError } from '@discordjs/rest';
import { type APIMessage, type APIUser, RESTJSONErrorCodes, Routes } from 'discord-api-types/v10';
import { type DiscordRefs, decodeRefs, encodeRefs } from '../chat/refs.ts';
import type { Setups } from '../chat/setups.ts';
import type { WriteLimiter } from '../chat/write-limiter.ts';
import type { Logger } from '../lib/log.ts';
import { type Core, type FinalDelivery, type JobView, jobStatus, setChatRefs } from '../rules/index.ts';
import { safeError } from './errors.ts';
import * as render from './job-messages.ts';

/**
 * The writes of a job's messages, shared by its progress edits (events.ts) and its end (final-delivery.ts):
 * everything through the REST API with the bot token, by the ids stored with the job, never by the interaction
 * token (which expires after 15 minutes) and never through discord.js's cache, so that it works after a restart
 * and from a process without a gateway connection (the shard manager).
 */
export interface JobWrites {
  core: Core;
  rest: REST;
  log: Logger;
  setups: Setups<number, DiscordRefs>;
  /** Progress edits per channel (see CHANNEL_RATE); a job's end does not wait there. */
  limiter: WriteLimiter;
  /** Jobs whose progress went on in a new message (Discord refused to edit the old one): its id. */
  movedProgress: Map<number, string>;
  /** Aborted by stop(): nothing waits for refs any more. */
  stopping: AbortSignal;
  /** The bot's user id (GET /users/@me), asked once. */
  botId(): Promise<string>;
}

/**
 * The latest messages of a job's thread searched for its final message before it is posted again. A job's thread
 * holds its progress message and its end; a hundred (one page) leaves room for members' replies.
 */
const THREAD_LOOKBACK = 100;

export const logFields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: job.platform });

/** Discord's refusal to edit a message over an hour old past a few edits (30046). */
export const tooOldToEdit = (error: unknown) =>
  error instanceof DiscordAPIError &&
  error.code === RESTJSONErrorCodes.MaximumNumberOfEditsToMessagesOlderThanOneHourReached;

/** GET /users/@me, asked once (again after a failure). */
export function botIdOnce(rest: REST): () => Promise<string> {
  let me: Promise<string> | undefined;
  return () => {
    me ??= (rest.get(Routes.user('@me')) as Promise<APIUser>).then((user) => user.id);
    me.catch(() => {
      me = undefined;
    });
    return me;
  };
}

/**
 * The job's message ids (stored with it, or from its set-up: chat/setups.ts), with its progress message as it is
 * now (see movedProgress). The set-up may run in another process (a shard): the job is read again meanwhile.
 */
export async function refsFor(w: JobWrites, job: JobView): Promise<DiscordRefs | undefined> {
  const reread = () =>
    jobStatus(w.core, { platform: 'discord', id: job.server }, job.id).then(
      (report) => decodeRefs('discord', report.job.chatRefs),
      () => undefined,
    );
  const refs = await w.setups.refsOf(job, {
    stored: decodeRefs('discord', job.chatRefs),
    key: job.id,
    reread,
    signal: w.stopping,
  });
  const progressId = w.movedProgress.get(job.id);
  return refs && progressId ? { ...refs, progressId } : refs;
}

/** Stores `refs` with the job, for a restarted bot and for the member's history; a failure is logged. */
export async function recordRefs(w: JobWrites, job: JobView, refs: DiscordRefs, what: string): Promise<void> {
  const chatRefs = encodeRefs('discord', refs);
  await attempt(w, job, what, () =>
    setChatRefs(w.core, { platform: 'discord', id: job.server }, job.id, { chatRefs }),
  );
}

export async function send(
  w: JobWrites,
  channelId: string,
  spec: render.MessageSpec,
): Promise<{ id: string }> {
  return (await w.rest.post(Routes.channelMessages(channelId), render.toRest(spec))) as { id: string };
}

/** Edits a message; a progress edit waits its turn in the channel's limiter and gives up once its job ended. */
export async function edit(
  w: JobWrites,
  channelId: string,
  messageId: string,
  spec: render.MessageSpec,
  progress?: { ended: AbortSignal },
): Promise<void> {
  const patch = () => w.rest.patch(Routes.channelMessage(channelId, messageId), render.toRest(spec));
  await (progress ? w.limiter.run(channelId, patch, { signal: progress.ended }) : patch());
}

/**
 * Edits `messageId`, or, where Discord no longer lets it be edited (over an hour old), posts `spec` in the same
 * channel: what it says is not lost.
 */
export async function editOrPost(
  w: JobWrites,
  channelId: string,
  messageId: string,
  spec: render.MessageSpec,
): Promise<void> {
  await edit(w, channelId, messageId, spec).catch(async (error: unknown) => {
    if (!tooOldToEdit(error)) throw error;
    await send(w, channelId, spec);
  });
}

/**
 * Sends `spec` in the channel, unless this is a resumed delivery and the bot's latest messages there already
 * hold one with its text (an earlier delivery posted it before the bot stopped): that one is returned.
 */
export async function sendOnce(
  w: JobWrites,
  channelId: string,
  spec: render.MessageSpec,
  delivery: FinalDelivery | undefined,
): Promise<{ id: string }> {
  if (delivery?.resumed) {
    const [bot, latest] = await Promise.all([
      w.botId(),
      w.rest.get(Routes.channelMessages(channelId), {
        query: new URLSearchParams({ limit: String(THREAD_LOOKBACK) }),
      }) as Promise<APIMessage[]>,
    ]);
    const { content } = render.toRest(spec).body;
    const posted = latest.find((m) => m.author.id === bot && m.content === content);
    if (posted) return posted;
  }
  return send(w, channelId, spec);
}

/** Runs one Discord call; a failure is logged (its safe fields only) and swallowed. */
export async function attempt<T>(
  w: JobWrites,
  job: JobView,
  what: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    w.log.warn({ ...logFields(job), err: safeError(error) }, `discord: could not ${what}`);
    return undefined;
  }
}
