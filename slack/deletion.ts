import type { App } from '@slack/bolt';
import { isJobFile } from '../chat/job-files.ts';
import { decodeRefs } from '../chat/refs.ts';
import { memberReply } from '../lib/member-error.ts';
import { type Actor, deletePainting, type JobView, UserError } from '../rules/index.ts';
import { type SlackDeps, workspace } from './deps.ts';
import { slackError } from './errors.ts';
import { DELETE_ACTION } from './render.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * The Delete button under a finished painting (with Slack's confirmation dialog). The press is acknowledged at
 * once; then the core decides (the requester, or a workspace admin or owner; a painting that has finished) and
 * deletes the job's images, marking it deleted (deletePainting); a refusal is told to the member alone. Then the
 * app's own messages in the job's thread that carry one of the job's files (the result, the side-by-side, the
 * previews, a timelapse) are deleted (chat.delete) with their files (files.delete), and the job's progress
 * message is edited to say it was deleted, without its buttons. A second press removes what a first one left.
 */
/** The replies of a job's thread read for its files: one page of them. */
const LOOKBACK = 200;

export const deletionTexts = {
  deleted: (jobId: number) =>
    `:wastebasket: Job ${jobId} is deleted: its images are gone from this thread and from the bot.`,
  already: (jobId: number) => `Job ${jobId} was already deleted; anything left of it is gone now.`,
  notice: (jobId: number, by: string) => `:wastebasket: Job ${jobId} was deleted by <@${by}>.`,
} as const;

export function registerDeletion(app: App, deps: SlackDeps): void {
  const { core, log } = deps;
  app.action(
    { action_id: DELETE_ACTION, type: 'block_actions' },
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const jobId = Number('value' in action ? action.value : undefined);
      if (!Number.isSafeInteger(jobId)) return;
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      const server = workspace(teamId);
      const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      const remove = (actor: Actor) => deletePainting(core, server, jobId, actor);
      try {
        const actor = { userId: body.user.id, isAdmin: false };
        const { job, deleted } = await remove(actor).catch(async (error: unknown) => {
          // Not the member's own painting: a workspace admin may delete it all the same.
          const forbidden = error instanceof UserError && error.code === 'forbidden';
          if (!forbidden || !(await deps.admins.isAdmin(client, body.user.id))) throw error;
          return remove({ ...actor, isAdmin: true });
        });
        await removeMessages(deps, client, job, body.user.id);
        await reply(deleted ? deletionTexts.deleted(jobId) : deletionTexts.already(jobId));
      } catch (error) {
        if (memberReply(error).log) {
          log.error({ jobId, server: teamId, platform: 'slack', err: slackError(error) }, 'slack: delete');
        }
        await reply(memberReply(error).text).catch(() => {});
      }
    },
  );
}

/** The app's messages with the job's files deleted, with the files; its progress message edited to say so. */
async function removeMessages(deps: SlackDeps, client: SlackClient, job: JobView, by: string) {
  const refs = decodeRefs('slack', job.chatRefs);
  const thread = job.threadId ?? refs?.progressTs;
  const attempt = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code !== 'message_not_found' && code !== 'file_not_found' && code !== 'file_deleted') {
        deps.log.warn(
          { jobId: job.id, server: job.server, platform: 'slack', err: slackError(error) },
          `slack: could not ${what}`,
        );
      }
    }
  };
  if (thread) {
    const [me, replies] = await Promise.all([
      client.auth.test(),
      client.conversations.replies({ channel: job.channelId, ts: thread, limit: LOOKBACK }),
    ]);
    const ours = (replies.messages ?? []).filter(
      (m) =>
        (m.user === me.user_id || (me.bot_id !== undefined && m.bot_id === me.bot_id)) &&
        m.ts !== refs?.progressTs &&
        (m.files ?? []).some((f) => isJobFile(f.name ?? '', job.id)),
    );
    await Promise.all(
      ours.flatMap((m) => [
        attempt('delete a message of the painting', () =>
          client.chat.delete({ channel: job.channelId, ts: m.ts! }),
        ),
        ...(m.files ?? []).map((f) =>
          attempt('delete a file of the painting', () => client.files.delete({ file: f.id! })),
        ),
      ]),
    );
  }
  if (refs) {
    const text = deletionTexts.notice(job.id, by);
    await attempt('edit the progress message', () =>
      client.chat.update({
        channel: job.channelId,
        ts: refs.progressTs,
        text,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
      }),
    );
  }
}
