/**
 * The one path from a member's request to a job in a thread, for /stylize and the picker's Paint button. The
 * order matters: nothing is posted in public before everything that can be checked without the images has
 * been. The caller has refused at once what the interaction alone tells (a style chosen, attachments that are
 * images of an allowed size on Discord's CDN: checkAttachment); here the core checks that the live workers can
 * paint the request, the options against the server's limits, the quotas, the preset and the shapes of the
 * images from their metadata (checkRequest, a few database reads), and refuses only to the member.
 * Only then is the reply deferred, publicly (the thread starts on it; the router's guard defers it earlier when
 * the checks are slow, so that Discord's 3 s are kept), and come the slow parts: downloads, the core (image
 * decoding), the thread. What is found wrong after that (a download that fails, a file that is not a readable
 * image, a limit another request reached meanwhile) deletes the "thinking…" reply and tells the member alone.
 */

import { basename, extname } from 'node:path';
import { type ButtonInteraction, type ChatInputCommandInteraction, MessageFlags } from 'discord.js';
import { type APIChannel, type APIMessage, Routes } from 'discord-api-types/v10';
import { reportDownloadFault } from '../chat/download-faults.ts';
import { resolvePreset } from '../chat/preset-choices.ts';
import { type DiscordRefs, encodeRefs } from '../chat/refs.ts';
import { memberReply } from '../lib/member-error.ts';
import {
  checkRequest,
  type ImageSubject,
  type JobOptionsInput,
  type Submission,
  setChatRefs,
  submitJob,
} from '../rules/index.ts';
import { downloadAttachment } from './attachments.ts';
import { type Context, DEFAULT_UPLOAD_LIMIT, serverOf } from './context.ts';
import { errorMessage, safeError } from './errors.ts';
import { answer } from './first-answer.ts';
import { progressQueued, queuedReply, threadName } from './job-messages.ts';
import { toRest } from './message-spec.ts';
import { showReply } from './reply.ts';

const AUTO_ARCHIVE_MINUTES = 1440;

/** An image to download from Discord's CDN, with its size in pixels where Discord told it. */
export interface ImageSource {
  url: string;
  width: number | null;
  height: number | null;
}

/** A request to paint, as /stylize or the picker of the message and user commands gathered it. */
export interface StylizeRequest {
  image: ImageSource;
  /** A preset's name or title; or null with `styleImage`. */
  typedStyle: string | null;
  styleImage: (ImageSource & { name: string }) | null;
  options: JobOptionsInput;
}

/** The interactions that start a painting: /stylize, and the picker's Paint button. */
export type StylizeInteraction = ChatInputCommandInteraction | ButtonInteraction;

/**
 * Checks, accepts and shows a request whose attachments' metadata were checked already (checkAttachment): the
 * one path from a member's request to a job in a thread.
 */
export async function stylize(
  ctx: Context,
  interaction: StylizeInteraction,
  request: StylizeRequest,
): Promise<void> {
  // The checks are a few database reads, made before the answer so that a refusal is the member's alone; under a
  // slow database the router's guard (first-answer.ts) defers the reply publicly in time, and a refusal then
  // deletes it (see `answer`).
  let checked: Checked;
  try {
    checked = await check(ctx, interaction, request);
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: interaction.guildId }, 'discord: /stylize check failed');
    }
    await answer(interaction, { content: errorMessage(error), flags: MessageFlags.Ephemeral });
    return;
  }

  await interaction.deferReply();
  let submission: Submission;
  try {
    submission = await submit(ctx, interaction, request, checked);
  } catch (error) {
    await refuseDeferred(ctx, interaction, error);
    return;
  }
  await setUp(ctx, interaction, submission);
}

/** The preset a request names, if any, and its options as the core accepted them. */
interface Checked {
  preset: string | null;
  options: Awaited<ReturnType<typeof checkRequest>>['options'];
}

/** The core's checks of a request, before anything is downloaded. Throws the member's refusal. */
async function check(
  ctx: Context,
  interaction: StylizeInteraction,
  request: StylizeRequest,
): Promise<Checked> {
  const server = serverOf(interaction.guildId!);
  const { image, typedStyle, styleImage } = request;
  // A title typed rather than picked from the autocompletion is taken for the preset it names.
  const preset =
    typedStyle && (resolvePreset((await ctx.choices.get(server)).presets, typedStyle) ?? typedStyle);
  const { options } = await checkRequest(ctx.core, {
    server,
    requesterId: interaction.user.id,
    options: request.options,
    defaults: ctx.jobDefaults,
    presets: preset ? [preset] : [],
    // Discord tells an image's size in its metadata: a shape too long and narrow is refused before any download.
    images: [
      dimensions(image, { kind: 'photo' }),
      styleImage ? dimensions(styleImage, { kind: 'style' }) : undefined,
    ],
  });
  return { preset, options };
}

/** Downloads the images and submits the job. Throws the member's refusal. */
async function submit(
  ctx: Context,
  interaction: StylizeInteraction,
  { image, styleImage }: StylizeRequest,
  { preset, options }: Checked,
): Promise<Submission> {
  const [content, style] = await Promise.all([
    downloadAttachment(image.url, ctx.config.download),
    styleImage ? downloadAttachment(styleImage.url, ctx.config.download) : undefined,
  ]);
  return submitJob(ctx.core, {
    server: serverOf(interaction.guildId!),
    channelId: interaction.channelId,
    requesterId: interaction.user.id,
    content,
    styles: [style && styleImage ? { image: style, name: styleName(styleImage.name) } : { preset: preset! }],
    options,
  });
}

/**
 * Shows the accepted job: the reply edited with its place in the queue, a thread started on the reply with the
 * progress message and its Cancel button, and the message ids stored with the job. Without a thread (no
 * permission to create one or to post in it, or the command was used in a thread) the reply is the progress
 * message.
 */
async function setUp(ctx: Context, interaction: StylizeInteraction, submission: Submission) {
  const { job } = submission;
  const server = serverOf(interaction.guildId!);
  const log = ctx.log.child({ jobId: job.id, server: server.id, platform: server.platform });
  const setup = ctx.setups.begin(job.id);
  let refs: DiscordRefs | undefined;
  try {
    const reply = await showReply(ctx, interaction, queuedReply(job, submission, Date.now()));
    let threadId: string | null = null;
    let progress = { channelId: reply.channelId, id: reply.id };
    try {
      const thread = (await ctx.rest.post(Routes.threads(reply.channelId, reply.id), {
        body: { name: threadName(job), auto_archive_duration: AUTO_ARCHIVE_MINUTES },
      })) as APIChannel;
      const message = (await ctx.rest.post(
        Routes.channelMessages(thread.id),
        toRest(progressQueued(job, submission, Date.now())),
      )) as APIMessage;
      threadId = thread.id;
      progress = { channelId: thread.id, id: message.id };
    } catch (error) {
      log.warn({ err: safeError(error) }, 'discord: no thread for this job; progress goes in the reply');
      await ctx.rest.patch(
        Routes.channelMessage(reply.channelId, reply.id),
        toRest(progressQueued(job, submission, Date.now())),
      );
    }
    refs = await recordJobMessages(ctx, interaction, job.id, { reply, progress, threadId });
  } catch (error) {
    log.error({ err: safeError(error) }, 'discord: could not show the job; its progress will not be shown');
  } finally {
    setup.finish(refs);
  }
}

/** Where a message of a job is: its channel (or thread) and its id. */
interface MessageAt {
  channelId: string;
  id: string;
}

/**
 * Stores with the job where its reply and its progress message are (chat/refs.ts), for its events to edit, and
 * the upload limit of the interaction's channel. Errors: the database's, to the caller.
 */
export async function recordJobMessages(
  ctx: Context,
  interaction: { guildId: string | null; attachmentSizeLimit: number },
  jobId: number,
  at: { reply: MessageAt; progress: MessageAt; threadId: string | null },
): Promise<DiscordRefs> {
  const refs: DiscordRefs = {
    channelId: at.reply.channelId,
    replyId: at.reply.id,
    threadId: at.threadId,
    progressChannelId: at.progress.channelId,
    progressId: at.progress.id,
    uploadLimit: interaction.attachmentSizeLimit || DEFAULT_UPLOAD_LIMIT,
  };
  const chatRefs = encodeRefs('discord', refs);
  await setChatRefs(ctx.core, serverOf(interaction.guildId!), jobId, { threadId: at.threadId, chatRefs });
  return refs;
}

/**
 * A refusal after the reply was deferred (publicly, so that a thread can start on it): the "thinking…" reply
 * is deleted and the member alone is told why.
 */
async function refuseDeferred(ctx: Context, interaction: StylizeInteraction, error: unknown) {
  const fields = { server: interaction.guildId };
  if (!reportDownloadFault(ctx.log, 'discord', error, fields) && memberReply(error).log) {
    ctx.log.error({ ...fields, err: safeError(error) }, 'discord: /stylize failed');
  }
  await interaction.deleteReply().catch(() => {});
  await interaction
    .followUp({ content: errorMessage(error), flags: MessageFlags.Ephemeral })
    .catch((e: unknown) => ctx.log.warn({ err: safeError(e) }, 'discord: could not tell the member'));
}

/** An attachment's size in pixels, where Discord gives it, for the core's shape check. */
function dimensions(attachment: { width: number | null; height: number | null }, subject: ImageSubject) {
  const { width, height } = attachment;
  return width && height ? { subject, width, height } : undefined;
}

/** An uploaded style image's name in labels: its file name without extension. */
function styleName(fileName: string): string {
  return (basename(fileName, extname(fileName)).trim() || 'your style image').slice(0, 80);
}
