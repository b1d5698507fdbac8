import { animationAsGif } from '../../lib/images/index.ts';
import { jobTimelapse } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import type { ButtonArgs } from '../slack-types.ts';
import { faultText, jobButton } from './shared.ts';

/**
 * The Timelapse button of a finished painting: the job's timelapse is uploaded in the job's thread, for anyone there
 * to see; pressing it is open to anyone who can see the thread, as the painting itself is. It is stored as an
 * animated WebP, which Slack does not preview (its image previews and Block Kit take PNG, JPEG and GIF:
 * slackapi/node-slack-sdk#1482), so it is converted to an animated GIF, which Slack plays inline, when asked for
 * (a few CPU seconds in sharp's threads, rather than in every job's time). When there is none to post (the job's
 * images were deleted after the retention period, or it has none), only the member who pressed it is told why.
 */
export async function timelapsePressed(deps: SlackDeps, args: ButtonArgs) {
  const pressed = await jobButton(args);
  if (!pressed) return;
  const { jobId, teamId, tell } = pressed;
  const { body, client } = args;
  try {
    const { image, job } = await jobTimelapse(deps.core, workspace(teamId), jobId);
    const gif = image.mime === 'image/gif' ? image.bytes : await animationAsGif(image.bytes);
    // Without a thread of its own (the request message could not be posted) the job's messages, this
    // button's among them, start the thread.
    const thread = job.threadId ?? body.container?.message_ts;
    await client.files.uploadV2({
      channel_id: job.channelId,
      ...(thread ? { thread_ts: thread } : {}),
      initial_comment: timelapseComment(jobId),
      file_uploads: [{ file: gif, filename: `timelapse-${jobId}.gif`, title: `Job ${jobId}: timelapse` }],
    });
  } catch (error) {
    const text = faultText(deps.log, error, { jobId, server: teamId }, 'slack: timelapse');
    await tell(text).catch(() => {});
  }
}

/** The comment of the timelapse posted in the job's thread. */
export function timelapseComment(jobId: number): string {
  return `Job ${jobId} from the photo to the result:`;
}
