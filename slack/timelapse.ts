import type { App } from '@slack/bolt';
import { animationAsGif } from '../lib/images/index.ts';
import { memberReply } from '../lib/member-error.ts';
import { jobTimelapse } from '../rules/index.ts';
import { type SlackDeps, workspace } from './deps.ts';
import { slackError } from './errors.ts';
import { errorText, TIMELAPSE_ACTION, timelapseComment } from './render.ts';

/**
 * The Timelapse button of a finished painting: the job's timelapse is uploaded in the job's thread, for anyone there
 * to see; pressing it is open to anyone who can see the thread, as the painting itself is. It is stored as an
 * animated WebP, which Slack does not preview (its image previews and Block Kit take PNG, JPEG and GIF:
 * slackapi/node-slack-sdk#1482), so it is converted to an animated GIF, which Slack plays inline, when asked for
 * (a few CPU seconds in sharp's threads, rather than in every job's time). When there is none to post (the job's
 * images were deleted after the retention period, or it has none), only the member who pressed it is told why.
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
        const gif = image.mime === 'image/gif' ? image.bytes : await animationAsGif(image.bytes);
        // Without a thread of its own (the request message could not be posted) the job's messages, this
        // button's among them, start the thread.
        const thread = job.threadId ?? body.container?.message_ts;
        await client.files.uploadV2({
          channel_id: job.channelId,
          ...(thread ? { thread_ts: thread } : {}),
          initial_comment: timelapseComment(jobId),
          file_uploads: [
            {
              file: gif,
              filename: `timelapse-${jobId}.gif`,
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
