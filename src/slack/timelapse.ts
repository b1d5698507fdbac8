import type { App } from '@slack/bolt';
import { jobTimelapse } from '../core/index.ts';
import { memberReply } from '../member-error.ts';
import { type SlackDeps, workspace } from './deps.ts';
import { slackError } from './events.ts';
import { errorText, TIMELAPSE_ACTION, timelapseComment } from './render.ts';

/**
 * The Timelapse button of a finished painting: the job's timelapse (an animated GIF, which Slack plays inline) is
 * uploaded in the job's thread, for anyone there to see; pressing it is open to anyone who can see the thread, as
 * the painting itself is. When there is none to post (the job's images were deleted after the retention period, or
 * it has none), only the member who pressed it is told why.
 */
export function registerTimelapse(app: App, deps: Pick<SlackDeps, 'core' | 'log'>): void {
  const { core, log } = deps;
  app.action(
    { action_id: TIMELAPSE_ACTION, type: 'block_actions' },
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const jobId = Number('value' in action ? action.value : undefined);
      if (!Number.isSafeInteger(jobId)) return;
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      try {
        const { image, job } = await jobTimelapse(core, workspace(teamId), jobId);
        // Without a thread of its own (the request message could not be posted) the job's messages, this
        // button's among them, start the thread.
        const thread = job.threadId ?? body.container?.message_ts;
        await client.files.uploadV2({
          channel_id: job.channelId,
          ...(thread ? { thread_ts: thread } : {}),
          initial_comment: timelapseComment(jobId),
          file_uploads: [
            {
              file: image.bytes,
              filename: `timelapse-${jobId}.${image.mime === 'image/gif' ? 'gif' : 'webp'}`,
              title: `Job ${jobId}: timelapse`,
            },
          ],
        });
      } catch (error) {
        if (memberReply(error).log) {
          log.error({ jobId, server: teamId, platform: 'slack', err: slackError(error) }, 'slack: timelapse');
        }
        await respond({ response_type: 'ephemeral', replace_original: false, text: errorText(error) }).catch(
          () => {},
        );
      }
    },
  );
}
