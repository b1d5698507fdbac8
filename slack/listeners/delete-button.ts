import { isJobFile } from '../../chat/job-files.ts';
import { decodeRefs } from '../../chat/refs.ts';
import { memberReply } from '../../lib/member-error.ts';
import { deletePainting, type JobView } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { slackError } from '../errors.ts';
import { section } from '../render.ts';
import type { ButtonArgs, SlackClient } from '../slack-types.ts';
import { asMemberOrAdmin, jobButton, logFault } from './shared.ts';

/**
 * The Delete button under a finished painting (with Slack's confirmation dialog). The press is acknowledged at
 * once; then the core decides (the requester, or a workspace admin or owner; a painting that has finished) and
 * deletes the job's images, marking it deleted (deletePainting); a refusal is told to the member alone. Then the
 * app's own messages in the job's thread that carry one of the job's files (the result, the side-by-side, the
 * previews, a timelapse) are deleted (chat.delete) with their files (files.delete), and the job's progress
 * message is edited to say it was deleted, without its buttons. A second press removes what a first one left.
 */
export const deletionTexts = {
  deleted: (jobId: number) =>
    `:wastebasket: Job ${jobId} is deleted: its images are gone from this thread and from the bot.`,
  already: (jobId: number) => `Job ${jobId} was already deleted; anything left of it is gone now.`,
  notice: (jobId: number, by: string) => `:wastebasket: Job ${jobId} was deleted by <@${by}>.`,
} as const;

/** The replies of a job's thread read for its files: one page of them. */
const LOOKBACK = 200;

/** Slack's answers for what a second press finds already gone. */
const GONE = new Set(['message_not_found', 'file_not_found', 'file_deleted', 'thread_not_found']);

export async function deletePressed(deps: SlackDeps, args: ButtonArgs) {
  const pressed = await jobButton(args);
  if (!pressed) return;
  const { jobId, teamId, tell } = pressed;
  const { body, client } = args;
  try {
    const { value } = await asMemberOrAdmin(deps, client, body.user.id, (actor) =>
      deletePainting(deps.core, workspace(teamId), jobId, actor),
    );
    await removeThreadFiles(deps, client, value.job);
    await markDeleted(deps, client, value.job, body.user.id);
    await tell(value.deleted ? deletionTexts.deleted(jobId) : deletionTexts.already(jobId));
  } catch (error) {
    logFault(deps.log, error, { jobId, server: teamId }, 'slack: delete');
    await tell(memberReply(error).text).catch(() => {});
  }
}

/** Runs a Slack call whose failure leaves the rest to do: logged, unless what it removes is already gone. */
async function attempt(deps: SlackDeps, job: JobView, what: string, call: () => Promise<unknown>) {
  try {
    await call();
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    if (code && GONE.has(code)) return;
    const fields = { jobId: job.id, server: job.server, platform: 'slack', err: slackError(error) };
    deps.log.warn(fields, `slack: could not ${what}`);
  }
}

/** The app's messages in the job's thread that carry one of its files, deleted with their files. */
async function removeThreadFiles(deps: SlackDeps, client: SlackClient, job: JobView): Promise<void> {
  const refs = decodeRefs('slack', job.chatRefs);
  const thread = job.threadId ?? refs?.progressTs;
  if (!thread) return;
  let me: Awaited<ReturnType<SlackClient['auth']['test']>>;
  let replies: Awaited<ReturnType<SlackClient['conversations']['replies']>>;
  try {
    [me, replies] = await Promise.all([
      client.auth.test(),
      client.conversations.replies({ channel: job.channelId, ts: thread, limit: LOOKBACK }),
    ]);
  } catch (error) {
    // A thread that is gone took the painting's messages with it: nothing is left to delete.
    if (GONE.has((error as { data?: { error?: string } }).data?.error ?? '')) return;
    throw error;
  }
  const ours = (replies.messages ?? []).filter(
    (m) =>
      (m.user === me.user_id || (me.bot_id !== undefined && m.bot_id === me.bot_id)) &&
      m.ts !== refs?.progressTs &&
      (m.files ?? []).some((f) => isJobFile(f.name ?? '', job.id)),
  );
  await Promise.all(
    ours.flatMap((m) => [
      attempt(deps, job, 'delete a message of the painting', () =>
        client.chat.delete({ channel: job.channelId, ts: m.ts! }),
      ),
      ...(m.files ?? []).map((f) =>
        attempt(deps, job, 'delete a file of the painting', () => client.files.delete({ file: f.id! })),
      ),
    ]),
  );
}

/** The job's progress message, edited to say who deleted the painting (its buttons go). */
async function markDeleted(deps: SlackDeps, client: SlackClient, job: JobView, by: string): Promise<void> {
  const refs = decodeRefs('slack', job.chatRefs);
  if (!refs) return;
  const text = deletionTexts.notice(job.id, by);
  await attempt(deps, job, 'edit the progress message', () =>
    client.chat.update({ channel: job.channelId, ts: refs.progressTs, text, blocks: [section(text)] }),
  );
}
