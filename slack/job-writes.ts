import { decodeRefs, type SlackRefs } from '../chat/refs.ts';
import type { Setups } from '../chat/setups.ts';
import type { WriteLimiter } from '../chat/write-limiter.ts';
import type { Logger } from '../lib/log.ts';
import type { JobView, StoredImage, VariationKind } from '../rules/index.ts';
import type { SlackConfig } from './config.ts';
import { queuedMessage } from './render.ts';
import type { SlackClient, SlackMessage } from './slack-types.ts';

/**
 * The writes of a job's messages, shared by its progress (events.ts) and its end (final-delivery.ts). What the
 * bot needs to find its messages again after a restart is in the job (its thread is the request message;
 * chatRefs holds the progress message's ts and what has been posted), so nothing is kept in memory that a
 * restart would lose.
 */
export interface JobWrites {
  client: SlackClient;
  config: Pick<SlackConfig, 'progressEveryMs' | 'previewsPerJob'>;
  log: Logger;
  /** Progress edits per workspace (see UPDATE_RATE); a job's end does not wait there. */
  limiter: WriteLimiter;
  /** By thread ts: the progress messages the /stylize flow is posting. */
  setups: Setups<string, SlackRefs>;
  /** The refs of the jobs under way, as last saved. */
  known: Map<number, SlackRefs>;
  /** Records the refs in the job (setChatRefs), so that a restarted bot finds its messages. */
  store(job: JobView, refs: SlackRefs): Promise<void>;
  /** The variations a finished painting offers now: its buttons. None without. */
  variations?: ((job: JobView) => Promise<VariationKind[]>) | undefined;
  /** Who the bot is (auth.test), asked once. */
  botIdentity(): Promise<{ userId?: string | undefined; botId?: string | undefined }>;
}

export const logFields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: 'slack' });

/** The thread of a job's messages: its request message, or (a job posted without one) its progress message. */
export const threadOf = (job: JobView, refs: SlackRefs) => job.threadId ?? refs.progressTs;

export function imageName(base: string, image: StoredImage): string {
  return `${base}.${image.mime === 'image/png' ? 'png' : 'jpg'}`;
}

export async function saveRefs(w: JobWrites, job: JobView, refs: SlackRefs): Promise<void> {
  w.known.set(job.id, refs);
  await w.store(job, refs);
}

/** chat.update; a progress edit waits its turn in the workspace's limiter, and gives up if its job ends. */
export function update(
  w: JobWrites,
  job: JobView,
  ts: string,
  message: SlackMessage,
  ended?: AbortSignal,
): Promise<unknown> {
  const call = () => w.client.chat.update({ channel: job.channelId, ts, ...message });
  return ended ? w.limiter.run(job.server, call, { signal: ended }) : call();
}

/**
 * The job's progress message: known, recorded, being posted by /stylize (chat/setups.ts), or (lost: a restart,
 * or /stylize could not post it) posted anew.
 */
export async function refsFor(w: JobWrites, job: JobView): Promise<SlackRefs> {
  const held = w.known.get(job.id);
  if (held) return held;
  const recorded = await w.setups.refsOf(job, {
    stored: decodeRefs('slack', job.chatRefs),
    key: job.threadId,
  });
  if (recorded) {
    w.known.set(job.id, recorded);
    return recorded;
  }
  const posted = await w.client.chat.postMessage({
    channel: job.channelId,
    ...(job.threadId ? { thread_ts: job.threadId } : {}),
    ...queuedMessage(job, null, null),
  });
  if (!posted.ts) throw new Error('chat.postMessage returned no ts');
  const refs = { progressTs: posted.ts };
  await saveRefs(w, job, refs);
  return refs;
}
