import type { DiscordRefs } from '../chat/refs.ts';
import { type FinalDelivery, type JobView, type ResultImages, variationChoices } from '../rules/index.ts';
import { safeError } from './errors.ts';
import { fitToUpload } from './fit.ts';
import * as render from './job-messages.ts';
import { attempt, edit, editOrPost, type JobWrites, logFields, recordRefs, sendOnce } from './job-writes.ts';
import { messageLink } from './refs.ts';

/**
 * A job's end on Discord, once its progress edits have ended: the final message in the thread (the painting and
 * the side-by-side, or the failure, or the cancellation), the progress message closed, and the command's reply
 * edited to link to it. Without a thread, or where posting there failed, the reply itself carries the end. A
 * delivery passed on again (`resumed`: a bot stopped while posting it) posts only what the thread does not hold
 * yet; the edits are made again, as they change nothing the second time. A failed call is logged and the rest
 * goes on.
 */
export async function deliverPainting(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  images: ResultImages,
  delivery: FinalDelivery | undefined,
): Promise<void> {
  const final = await finalMessage(w, job, refs, images);
  const posted =
    refs.threadId === null
      ? undefined
      : await attempt(w, job, 'post the final images in the thread', () =>
          sendOnce(w, refs.threadId!, final, delivery),
        );
  await closeProgress(w, job, refs, 'done');
  const result = posted
    ? await linkReply(w, job, refs, { channelId: refs.threadId!, messageId: posted.id })
    : await imagesInReply(w, job, refs, final);
  // Recorded for the member's history (/stylize-history), which links to the painting while it is kept.
  if (result) await recordRefs(w, job, { ...refs, result }, 'record where the painting is');
  w.log.info(logFields(job), 'discord: painting delivered');
}

export function deliverFailure(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  message: string,
  delivery: FinalDelivery | undefined,
): Promise<void> {
  return deliverEnd(w, job, refs, delivery, {
    posting: 'post the failure',
    inThread: render.failedMessage(job, message),
    progress: 'failed',
    reply: render.replyFailed(job, message),
  });
}

export function deliverCancellation(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  delivery: FinalDelivery | undefined,
): Promise<void> {
  return deliverEnd(w, job, refs, delivery, {
    posting: 'post the cancellation',
    inThread: render.cancelledMessage(job),
    progress: 'cancelled',
    reply: render.replyCancelled(job),
  });
}

/** The painting and the side-by-side, fitted to the guild's upload limit, with the variations' buttons. */
async function finalMessage(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  images: ResultImages,
): Promise<render.MessageSpec> {
  const files = await fitToUpload(
    [
      { baseName: `painting-${job.id}`, image: images.result },
      { baseName: `comparison-${job.id}`, image: images.comparison },
    ],
    refs.uploadLimit,
  );
  const choices = await variationChoices(w.core, job).catch((error: unknown) => {
    w.log.warn({ ...logFields(job), err: safeError(error) }, 'discord: no variation buttons');
    return [];
  });
  return render.finalMessage(job, files, choices);
}

/** The progress message (where it is not the reply) says how the job ended, its buttons gone. */
async function closeProgress(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  how: 'done' | 'failed' | 'cancelled',
): Promise<void> {
  if (refs.progressId === refs.replyId) return;
  await attempt(w, job, 'close the progress message', () =>
    edit(w, refs.progressChannelId, refs.progressId, render.progressEnded(job, how)),
  );
}

/** The reply links to the painting posted in the thread: that message is the result. */
async function linkReply(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  result: NonNullable<DiscordRefs['result']>,
): Promise<DiscordRefs['result']> {
  const link = messageLink(job.server, result.channelId, result.messageId);
  await attempt(w, job, 'link the reply to the images', () =>
    edit(w, refs.channelId, refs.replyId, render.replyDone(job, link)),
  );
  return result;
}

/** No thread, or posting there failed: the reply itself carries the images (posted anew if too old to edit). */
async function imagesInReply(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  final: render.MessageSpec,
): Promise<DiscordRefs['result']> {
  const reply = { ...render.replyDone(job, null), files: final.files!, components: final.components! };
  const shown = await attempt(w, job, 'put the images in the reply', async () => {
    await editOrPost(w, refs.channelId, refs.replyId, reply);
    return true;
  });
  return shown ? { channelId: refs.channelId, messageId: refs.replyId } : undefined;
}

/**
 * A failure or a cancellation: said in the thread, the progress message closed, the reply edited (posted anew
 * where it has no thread and is too old to edit, so that the end is seen).
 */
async function deliverEnd(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  delivery: FinalDelivery | undefined,
  end: {
    posting: string;
    inThread: render.MessageSpec;
    progress: 'failed' | 'cancelled';
    reply: render.MessageSpec;
  },
): Promise<void> {
  if (refs.threadId !== null) {
    await attempt(w, job, end.posting, () => sendOnce(w, refs.threadId!, end.inThread, delivery));
  }
  await closeProgress(w, job, refs, end.progress);
  await attempt(w, job, 'edit the reply', () =>
    (refs.threadId === null ? editOrPost : edit)(w, refs.channelId, refs.replyId, end.reply),
  );
}
