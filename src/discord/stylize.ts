/**
 * /stylize and the Cancel button. The order matters: what can be checked from the interaction alone (a style
 * chosen, attachments that are images of an allowed size on Discord's CDN) is refused at once; then the reply
 * is deferred (Discord wants an answer within 3 s), and only then come the slow parts: downloads, the core
 * (database, image decoding), the thread.
 */
import { basename, extname } from 'node:path';
import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  MessageFlags,
  PermissionFlagsBits,
} from 'discord.js';
import { type APIChannel, type APIMessage, Routes } from 'discord-api-types/v10';
import { cancelJob, type Submission, setChatRefs, submitJob } from '../core/index.ts';
import { memberReply } from '../member-error.ts';
import { checkAttachment, downloadAttachment } from './attachments.ts';
import { type Context, DEFAULT_UPLOAD_LIMIT, serverOf } from './context.ts';
import { safeError } from './errors.ts';
import { type ChatRefs, encodeRefs } from './refs.ts';
import * as render from './render.ts';

const AUTO_ARCHIVE_MINUTES = 1440;

export async function handleStylize(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  const server = serverOf(interaction.guildId!);
  const image = interaction.options.getAttachment('image', true);
  const preset = interaction.options.getString('style')?.trim() || null;
  const styleImage = interaction.options.getAttachment('style_image');
  const refusal =
    (!preset && !styleImage ? render.messages.chooseStyle : undefined) ??
    (preset && styleImage ? render.messages.oneStyle : undefined) ??
    checkAttachment(image, ctx.config.download)?.message ??
    (styleImage ? checkAttachment(styleImage, ctx.config.download)?.message : undefined);
  if (refusal) {
    await interaction.reply({ content: refusal, flags: MessageFlags.Ephemeral });
    return;
  }

  await interaction.deferReply();
  let submission: Submission;
  try {
    const [content, style] = await Promise.all([
      downloadAttachment(image.url, ctx.config.download),
      styleImage ? downloadAttachment(styleImage.url, ctx.config.download) : undefined,
    ]);
    const chosen = {
      size: interaction.options.getInteger('size') ?? undefined,
      iterations: interaction.options.getInteger('iterations') ?? undefined,
      strength: interaction.options.getInteger('strength') ?? undefined,
      preserveColors: interaction.options.getBoolean('preserve_colors') ?? undefined,
    };
    submission = await submitJob(ctx.core, {
      server,
      channelId: interaction.channelId,
      requesterId: interaction.user.id,
      content,
      styles: [
        style && styleImage ? { image: style, name: styleName(styleImage.name) } : { preset: preset! },
      ],
      options: { ...ctx.jobDefaults, ...definedOnly(chosen) },
    });
  } catch (error) {
    await refuseDeferred(ctx, interaction, error);
    return;
  }
  await setUp(ctx, interaction, submission);
}

/**
 * Shows the accepted job: the reply edited with its place in the queue, a thread started on the reply with the
 * progress message and its Cancel button, and the message ids stored with the job. Without a thread (no
 * permission to create one or to post in it, or the command was used in a thread) the reply is the progress
 * message.
 */
async function setUp(ctx: Context, interaction: ChatInputCommandInteraction, submission: Submission) {
  const { job } = submission;
  const server = serverOf(interaction.guildId!);
  const log = ctx.log.child({ jobId: job.id, server: server.id, platform: server.platform });
  ctx.setups.begin(job.id);
  let refs: ChatRefs | undefined;
  try {
    const reply = await interaction.editReply(
      render.toInteractionReply(render.queuedReply(job, submission, Date.now())),
    );
    let threadId: string | null = null;
    let progress = { channelId: reply.channelId, id: reply.id };
    try {
      const thread = (await ctx.rest.post(Routes.threads(reply.channelId, reply.id), {
        body: { name: render.threadName(job), auto_archive_duration: AUTO_ARCHIVE_MINUTES },
      })) as APIChannel;
      const message = (await ctx.rest.post(
        Routes.channelMessages(thread.id),
        render.toRest(render.progressQueued(job, submission, Date.now())),
      )) as APIMessage;
      threadId = thread.id;
      progress = { channelId: thread.id, id: message.id };
    } catch (error) {
      log.warn({ err: safeError(error) }, 'discord: no thread for this job; progress goes in the reply');
      await interaction.editReply(
        render.toInteractionReply(render.progressQueued(job, submission, Date.now())),
      );
    }
    refs = {
      v: 1,
      channelId: reply.channelId,
      replyId: reply.id,
      threadId,
      progressChannelId: progress.channelId,
      progressId: progress.id,
      uploadLimit: interaction.attachmentSizeLimit || DEFAULT_UPLOAD_LIMIT,
    };
    await setChatRefs(ctx.core, server, job.id, { threadId, chatRefs: encodeRefs(refs) });
  } catch (error) {
    log.error({ err: safeError(error) }, 'discord: could not show the job; its progress will not be shown');
  } finally {
    ctx.setups.finish(job.id, refs);
  }
}

/** The requester's Cancel button (or an admin's): refused at once to anyone else, then the core decides. */
export async function handleCancelButton(ctx: Context, interaction: ButtonInteraction): Promise<void> {
  const target = render.parseCancelButtonId(interaction.customId);
  if (!target) return;
  const isAdmin = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
  if (interaction.user.id !== target.requesterId && !isAdmin) {
    await interaction.reply({ content: render.messages.notYourJob, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    const result = await cancelJob(ctx.core, serverOf(interaction.guildId!), target.jobId, {
      userId: interaction.user.id,
      isAdmin,
    });
    await interaction.editReply(
      result === 'cancelled'
        ? `Painting #${target.jobId} is cancelled.`
        : `Painting #${target.jobId} is stopping; the thread will say when it has.`,
    );
  } catch (error) {
    if (memberReply(error).log) ctx.log.error({ err: safeError(error) }, 'discord: cancel failed');
    await interaction.editReply(render.errorMessage(error));
  }
}

/**
 * A refusal after the reply was deferred (publicly, so that a thread can start on it): the "thinking…" reply
 * is deleted and the member alone is told why.
 */
async function refuseDeferred(ctx: Context, interaction: ChatInputCommandInteraction, error: unknown) {
  if (memberReply(error).log) {
    ctx.log.error({ err: safeError(error), server: interaction.guildId }, 'discord: /stylize failed');
  }
  await interaction.deleteReply().catch(() => {});
  await interaction
    .followUp({ content: render.errorMessage(error), flags: MessageFlags.Ephemeral })
    .catch((e: unknown) => ctx.log.warn({ err: safeError(e) }, 'discord: could not tell the member'));
}

/** An uploaded style image's name in labels: its file name without extension. */
function styleName(fileName: string): string {
  return (basename(fileName, extname(fileName)).trim() || 'your style image').slice(0, 80);
}

function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
