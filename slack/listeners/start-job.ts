import {
  type CheckedOptions,
  checkImages,
  type JobView,
  type Submission,
  type SubmitRequest,
  submitJob,
} from '../../rules/index.ts';
import { fetchFiles, type SlackDeps, workspace } from '../deps.ts';
import { slackError } from '../errors.ts';
import type { StylizeChoice } from '../modal.ts';
import { context, mention, section, styleList } from '../render.ts';
import type { SlackClient, SlackMessage } from '../slack-types.ts';
import { postProgressMessage, queuedText } from './job-thread.ts';
import { faultText } from './shared.ts';

/** A submitted /stylize form, checked against the workspace's limits (checkRequest). */
export interface JobRequest {
  teamId: string;
  channelId: string;
  userId: string;
  choice: StylizeChoice;
  options: CheckedOptions;
}

const CANNOT_POST =
  'I can’t post in that channel. Invite me there (`/invite @Stylize`), or use /stylize in a channel I’m in.';

/**
 * Fetches the files (metadata first, then the downloads) and checks their headers, posts the request in the
 * channel (which also finds out whether the bot may post there), submits the job, then turns the message into
 * the job's and opens its thread with the progress message. Returns what the form shows the member: where to
 * follow the job, or why it was refused. Nothing is posted before the images are known to be paintable; what
 * only submitting finds (pixels that do not decode, a limit another request reached meanwhile) deletes the post.
 */
export async function startJob(deps: SlackDeps, client: SlackClient, request: JobRequest): Promise<string> {
  const images = await readyImages(deps, client, request);
  if (typeof images === 'string') return images;
  const { channelId } = request;
  const parentTs = await postPending(deps, client, request);
  if (parentTs === undefined) return CANNOT_POST;
  // Events of the job that come before its thread is recorded wait for it (keyed by the request message).
  const thread = deps.events.expect(parentTs);
  let submitted: Submission;
  try {
    submitted = await submitJob(deps.core, {
      server: workspace(request.teamId),
      channelId,
      threadId: parentTs,
      requesterId: request.userId,
      ...images,
      options: request.options,
    });
  } catch (error) {
    thread.resolve(undefined);
    await client.chat.delete({ channel: channelId, ts: parentTs }).catch(() => {});
    return faultText(deps.log, error, fieldsOf(request), 'slack: could not start a job');
  }
  try {
    await client.chat.update({ channel: channelId, ts: parentTs, ...requestMessage(submitted.job) });
    thread.resolve(await postProgressMessage(deps, client, submitted, parentTs));
  } catch (error) {
    thread.resolve(undefined);
    const fields = { ...fieldsOf(request), jobId: submitted.job.id, err: slackError(error) };
    deps.log.error(fields, 'slack: could not post the job’s thread');
  }
  return queuedText('painting', submitted, `the thread under your request in <#${channelId}>`);
}

const fieldsOf = (request: JobRequest) => ({
  server: request.teamId,
  platform: 'slack',
  channel: request.channelId,
});

/**
 * The photo and the styles (a preset, the member's style image, or both) as the job takes them, checked by
 * their headers (an image, a shape the layers can paint); or the sentence saying why not.
 */
async function readyImages(
  deps: SlackDeps,
  client: SlackClient,
  request: JobRequest,
): Promise<Pick<SubmitRequest, 'content' | 'styles'> | string> {
  const { choice } = request;
  const fields = fieldsOf(request);
  let files: Awaited<ReturnType<typeof fetchFiles>>;
  try {
    const ids = [choice.contentFileId, ...(choice.styleFileId ? [choice.styleFileId] : [])];
    files = await fetchFiles(deps, client, ids);
  } catch (error) {
    return faultText(deps.log, error, fields, 'slack: could not fetch the files');
  }
  const [content, style] = files;
  const styles: SubmitRequest['styles'] = [];
  if (choice.preset) styles.push({ preset: choice.preset });
  if (style)
    styles.push({ image: style.bytes, name: style.name.replace(/\.[a-z0-9]+$/i, '') || 'your image' });
  const images = { content: content!.bytes, styles };
  try {
    await checkImages(deps.core, { server: workspace(request.teamId), ...images, options: request.options });
    return images;
  } catch (error) {
    return faultText(deps.log, error, fields, 'slack: could not check the files');
  }
}

/** Posts the request in the channel before there is a job; its ts, or undefined when the bot may not post there. */
async function postPending(
  deps: SlackDeps,
  client: SlackClient,
  request: JobRequest,
): Promise<string | undefined> {
  try {
    const posted = await client.chat.postMessage({
      channel: request.channelId,
      ...pendingRequestMessage(request.userId),
    });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    return posted.ts;
  } catch (error) {
    deps.log.warn({ ...fieldsOf(request), err: slackError(error) }, 'slack: cannot post in the channel');
    return undefined;
  }
}

/** The channel message while the images are fetched and checked (before there is a job). */
function pendingRequestMessage(requesterId: string): SlackMessage {
  const text = `${mention(requesterId)} asked for a painting: getting the images ready…`;
  return { text, blocks: [section(text)] };
}

/** The channel message once the job exists; the thread under it follows the job. */
function requestMessage(job: JobView): SlackMessage {
  const text = `${mention(job.requesterId)} asked for a painting in the style of ${styleList(job.styles)}.`;
  return {
    text,
    blocks: [section(text), context(`Job ${job.id} · ${describeOptions(job)} · progress in the thread`)],
  };
}

function describeOptions(job: Pick<JobView, 'options'>): string {
  const { size, strength, preserveColors } = job.options;
  return `${size} px, strength ${strength}${preserveColors ? ', colours kept' : ''}`;
}
