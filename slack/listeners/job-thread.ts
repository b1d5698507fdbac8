import type { SlackRefs } from '../../chat/refs.ts';
import type { Submission } from '../../rules/index.ts';
import type { SlackDeps } from '../deps.ts';
import { queuedMessage } from '../render.ts';
import type { SlackClient } from '../slack-types.ts';

/**
 * A new job's progress message (queued, with its Cancel button) posted in the thread `threadTs` (none: the
 * message starts a thread of its own), and its ts stored in the job, where the job events find it. Returns
 * what was stored, for the events waiting on the thread (SlackJobEvents.expect). Throws Slack's or the
 * database's error.
 */
export async function postProgressMessage(
  deps: SlackDeps,
  client: SlackClient,
  { job, position, etaMs }: Submission,
  threadTs: string | null,
): Promise<SlackRefs> {
  const progress = await client.chat.postMessage({
    channel: job.channelId,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ...queuedMessage(job, position, etaMs),
  });
  if (!progress.ts) throw new Error('chat.postMessage returned no ts');
  const refs: SlackRefs = { progressTs: progress.ts };
  await deps.saveRefs(job, refs);
  return refs;
}

/** What the member is told of a job just queued: its number and place, and where to follow it. */
export function queuedText(what: string, { job, position }: Submission, where: string): string {
  const place = position === null ? 'It is starting' : `It is #${position} in the queue`;
  return `:art: Your ${what} is job ${job.id}. ${place}; follow it in ${where}.`;
}
