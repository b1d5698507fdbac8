import type { SlackRefs } from '../chat/refs.ts';
import type { FinalDelivery, JobView, ResultImages } from '../rules/index.ts';
import { slackError } from './errors.ts';
import { imageName, type JobWrites, logFields, saveRefs, threadOf, update } from './job-writes.ts';
import { cancelledMessage, completedMessage, failedMessage, failedReply, resultComment } from './render.ts';

/**
 * A job's end on Slack, once its progress writes have ended: the two images posted in the thread (or the failure
 * said there), the progress message updated, and the refs marked done so that the end is not acted on twice.
 * A delivery passed on again (`resumed`: the bot stopped while posting it, before it recorded `done`) first reads
 * the thread (conversations.replies) for the bot's result files or failure message, and posts only what is not
 * there; the progress message is updated again, which changes nothing the second time.
 */
export async function deliverPainting(
  w: JobWrites,
  job: JobView,
  refs: SlackRefs,
  images: ResultImages,
  delivery: FinalDelivery | undefined,
): Promise<void> {
  const files = resultFiles(job, images);
  const result = files[0]!.filename;
  const uploaded =
    delivery?.resumed &&
    (await inThread(w, job, refs, (m) => (m.files ?? []).some((f) => f.name === result)));
  if (!uploaded) {
    await w.client.files.uploadV2({
      channel_id: job.channelId,
      thread_ts: threadOf(job, refs),
      initial_comment: resultComment(job),
      file_uploads: files,
    });
  }
  await saveRefs(w, job, { ...refs, done: true });
  const choices = await (w.variations?.(job) ?? Promise.resolve([])).catch((error: unknown) => {
    w.log.warn({ ...logFields(job), err: slackError(error) }, 'slack: no variation buttons');
    return [];
  });
  await update(w, job, refs.progressTs, completedMessage(job, choices));
}

export async function deliverFailure(
  w: JobWrites,
  job: JobView,
  refs: SlackRefs,
  message: string,
  delivery: FinalDelivery | undefined,
): Promise<void> {
  await update(w, job, refs.progressTs, failedMessage(job, message));
  const text = failedReply(job, message);
  if (!delivery?.resumed || !(await inThread(w, job, refs, (m) => m.text === text))) {
    await w.client.chat.postMessage({ channel: job.channelId, thread_ts: threadOf(job, refs), text });
  }
  await saveRefs(w, job, { ...refs, done: true });
}

/** Updates only: a resumed delivery makes them again. */
export async function deliverCancellation(w: JobWrites, job: JobView, refs: SlackRefs): Promise<void> {
  await update(w, job, refs.progressTs, cancelledMessage(job));
  await saveRefs(w, job, { ...refs, done: true });
}

/** The replies of a job's thread read for what an earlier delivery of its end posted (one page of them). */
const THREAD_LOOKBACK = 200;

/** What the end of a job is recognised by among a thread's replies (conversations.replies). */
interface SlackReply {
  user?: string | undefined;
  bot_id?: string | undefined;
  text?: string | undefined;
  files?: { name?: string | undefined }[] | undefined;
}

/**
 * Whether the bot's replies in the job's thread already hold a message that `posted` recognises (a resumed
 * delivery's earlier attempt posted it). Without the history scope the thread cannot be read: the end is posted
 * again, as a repeat is better than a result lost, and the log names the scope.
 */
async function inThread(
  w: JobWrites,
  job: JobView,
  refs: SlackRefs,
  posted: (message: SlackReply) => boolean,
): Promise<boolean> {
  try {
    const [bot, replies] = await Promise.all([
      w.botIdentity(),
      w.client.conversations.replies({
        channel: job.channelId,
        ts: threadOf(job, refs),
        limit: THREAD_LOOKBACK,
      }),
    ]);
    return (replies.messages ?? []).some(
      (m) => (m.user === bot.userId || (bot.botId !== undefined && m.bot_id === bot.botId)) && posted(m),
    );
  } catch (error) {
    w.log.warn(
      { ...logFields(job), err: slackError(error) },
      'slack: could not read the thread (the app needs channels:history and groups:history); posting the end again',
    );
    return false;
  }
}

function resultFiles(job: JobView, images: ResultImages) {
  return [
    {
      file: images.result.bytes,
      filename: imageName(`painting-${job.id}`, images.result),
      title: `Job ${job.id}: the painting`,
    },
    {
      file: images.comparison.bytes,
      filename: imageName(`side-by-side-${job.id}`, images.comparison),
      title: `Job ${job.id}: photo, painting and result`,
    },
  ];
}
