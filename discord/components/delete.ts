/**
 * The Delete button under a finished painting. A press by anyone but the painting's requester or an admin (Manage
 * Server) is refused at once, to them alone. Otherwise the answer is deferred (privately) and the core deletes the
 * job's images and marks it deleted (deletePainting); then the bot's messages that show the painting go: those in
 * the job's thread (or channel) with one of the job's files (the result, the side-by-side, a timelapse) are deleted,
 * and the job's own reply and progress message stay, edited to say it was deleted, without their images and
 * buttons. A second press, or one after a partial removal, removes what is left.
 */
import { type ButtonInteraction, MessageFlags } from 'discord.js';
import { type APIMessage, RESTJSONErrorCodes, Routes } from 'discord-api-types/v10';
import { isJobFile } from '../../chat/job-files.ts';
import { decodeRefs } from '../../chat/refs.ts';
import { memberReply } from '../../lib/member-error.ts';
import { deletePainting, type JobView } from '../../rules/index.ts';
import { type OwnedJob, parseDeleteButtonId } from '../buttons.ts';
import { type Context, isAdmin, serverOf } from '../context.ts';
import { safeError } from '../errors.ts';
import { button } from './component.ts';

/** The bot's latest messages of the job's thread searched for the job's files: one page. */
const LOOKBACK = 100;

export const deletionMessages = {
  notYours: 'Only the member who asked for this painting, or an admin, can delete it.',
  deleted: (jobId: number) =>
    `Painting #${jobId} is deleted: its images are gone from this server’s messages and from the bot.`,
  already: (jobId: number) => `Painting #${jobId} was already deleted; anything left of it is gone now.`,
  notice: (jobId: number, by: string) => `Painting #${jobId} was deleted by <@${by}>.`,
} as const;

async function execute(ctx: Context, interaction: ButtonInteraction, target: OwnedJob): Promise<void> {
  const admin = isAdmin(interaction);
  if (interaction.user.id !== target.requesterId && !admin) {
    await interaction.reply({ content: deletionMessages.notYours, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const server = serverOf(interaction.guildId!);
  try {
    const { job, deleted } = await deletePainting(ctx.core, server, target.jobId, {
      userId: interaction.user.id,
      isAdmin: admin,
    });
    await removeMessages(ctx, job, interaction.client.user.id, interaction.user.id);
    await interaction.editReply(
      deleted ? deletionMessages.deleted(job.id) : deletionMessages.already(job.id),
    );
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id, jobId: target.jobId }, 'discord: delete');
    }
    await interaction.editReply(memberReply(error).text);
  }
}

/** The bot's messages of the job: those with its files deleted, its reply and progress message edited. */
async function removeMessages(ctx: Context, job: JobView, botId: string, by: string): Promise<void> {
  const refs = decodeRefs('discord', job.chatRefs);
  if (!refs) return;
  const where = refs.threadId ?? refs.channelId;
  const edited = new Map([
    [refs.replyId, refs.channelId],
    [refs.progressId, refs.progressChannelId],
  ]);
  const doomed = new Map<string, string>();
  if (refs.result && !edited.has(refs.result.messageId))
    doomed.set(refs.result.messageId, refs.result.channelId);
  const latest = await attempt(ctx, job, 'read the thread', () =>
    ctx.rest.get(Routes.channelMessages(where), { query: new URLSearchParams({ limit: String(LOOKBACK) }) }),
  );
  for (const message of (latest ?? []) as APIMessage[]) {
    const ours =
      message.author.id === botId && message.attachments.some((a) => isJobFile(a.filename, job.id));
    if (ours && !edited.has(message.id)) doomed.set(message.id, where);
  }
  const notice = {
    content: deletionMessages.notice(job.id, by),
    components: [],
    attachments: [],
    allowed_mentions: { parse: [] },
  };
  await Promise.all([
    ...[...doomed].map(([id, channelId]) =>
      attempt(ctx, job, 'delete a message of the painting', () =>
        ctx.rest.delete(Routes.channelMessage(channelId, id)),
      ),
    ),
    ...[...edited].map(([id, channelId]) =>
      attempt(ctx, job, 'edit a message of the painting', () =>
        ctx.rest.patch(Routes.channelMessage(channelId, id), { body: notice }),
      ),
    ),
  ]);
}

/** One Discord call; a message already gone is no failure, any other is logged and the rest goes on. */
async function attempt<T>(ctx: Context, job: JobView, what: string, call: () => Promise<T>) {
  try {
    return await call();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== RESTJSONErrorCodes.UnknownMessage) {
      ctx.log.warn(
        { err: safeError(error), jobId: job.id, server: job.server },
        `discord: could not ${what}`,
      );
    }
    return undefined;
  }
}

export const deleteButton = button({ parse: parseDeleteButtonId, deferral: 'ephemeral', execute });
