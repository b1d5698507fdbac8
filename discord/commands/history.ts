/**
 * /stylize-history: the member's latest paintings on this server, each with a link to its thread or, while the
 * bot keeps its images, to the message that shows the painting. Only the member sees the answer (ephemeral).
 *
 * A command of its own rather than a subcommand of /stylize: Discord does not let a command have both options
 * and subcommands, and /stylize keeps its options.
 */
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { historyState } from '../../chat/history-state.ts';
import { decodeRefs } from '../../chat/refs.ts';
import { memberReply } from '../../lib/member-error.ts';
import { type HistoryEntry, memberHistory, plural } from '../../rules/index.ts';
import { type Context, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { styleNames } from '../job-messages.ts';
import { clipLines, type MessageSpec, timestamp, toInteractionReply } from '../message-spec.ts';
import { channelLink, messageLink } from '../refs.ts';
import { guildOnly, slashCommand } from './command.ts';

const definition = guildOnly(
  new SlashCommandBuilder()
    .setName('stylize-history')
    .setDescription('List your latest paintings on this server, with links to them'),
);

/**
 * One line per painting, newest first, each with one link: to the message that shows the painting while the
 * bot keeps it (it is in the thread, or is the reply when there is none), otherwise to the job's thread (or its
 * reply, or its channel, for a job shown nowhere else).
 */
export function historyMessage(entries: readonly HistoryEntry[]): MessageSpec {
  if (entries.length === 0) {
    return { content: 'You have no paintings on this server yet. Start one with `/stylize`.' };
  }
  const order = entries.length > 1 ? ', newest first' : '';
  return {
    content: clipLines([
      `Your last ${plural(entries.length, 'painting')} on this server${order}:`,
      ...entries.map(historyLine),
    ]),
  };
}

function historyLine(entry: HistoryEntry): string {
  const { job, resultKept } = entry;
  const refs = decodeRefs('discord', job.chatRefs);
  const thread = job.threadId
    ? channelLink(job.server, job.threadId)
    : refs
      ? messageLink(job.server, refs.channelId, refs.replyId)
      : channelLink(job.server, job.channelId);
  const result = resultKept && refs?.result;
  const link = result
    ? `[see the painting](${messageLink(job.server, result.channelId, result.messageId)})`
    : `[open the thread](${thread})`;
  const state = historyState(entry, (moment) => timestamp(moment.getTime()));
  return `• #${job.id} · **${styleNames(job)}** · asked ${timestamp(job.createdAt.getTime())} · ${state} · ${link}`;
}

async function execute(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const server = serverOf(interaction.guildId!);
  try {
    const entries = await memberHistory(ctx.core, server, interaction.user.id);
    await interaction.editReply(toInteractionReply(historyMessage(entries)));
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-history failed');
    }
    await interaction.editReply(errorMessage(error));
  }
}

export const historyCommand = slashCommand({ data: definition, deferral: 'ephemeral', execute });
