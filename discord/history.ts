/**
 * /stylize-history: the member's latest paintings on this server, each with a link to its thread or, while the
 * bot keeps its images, to the message that shows the painting. Only the member sees the answer (ephemeral).
 */
import { type ChatInputCommandInteraction, MessageFlags } from 'discord.js';
import { memberReply } from '../lib/member-error.ts';
import { memberHistory } from '../rules/index.ts';
import { type Context, serverOf } from './context.ts';
import { safeError } from './errors.ts';
import * as render from './render.ts';

export async function handleHistory(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const server = serverOf(interaction.guildId!);
  try {
    const entries = await memberHistory(ctx.core, server, interaction.user.id);
    await interaction.editReply(render.toInteractionReply(render.historyMessage(entries)));
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-history failed');
    }
    await interaction.editReply(render.errorMessage(error));
  }
}
