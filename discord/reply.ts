/**
 * The message a job's thread and progress hang on, made without depending on the interaction token: the deferred
 * reply is edited while the token is good (15 minutes, which a slow database or a long set-up can outlast); once
 * it is not, the same message is posted in the channel with the bot token. Every later write goes through the
 * bot token by the ids returned (events.ts).
 */
import { DiscordAPIError } from '@discordjs/rest';
import type { RepliableInteraction } from 'discord.js';
import { type APIMessage, RESTJSONErrorCodes, Routes } from 'discord-api-types/v10';
import type { Context } from './context.ts';
import { type MessageSpec, toInteractionReply, toRest } from './message-spec.ts';

/** What Discord answers to an interaction token that expired or never got its first answer. */
const TOKEN_GONE = new Set<number | string>([
  RESTJSONErrorCodes.InvalidWebhookToken,
  RESTJSONErrorCodes.UnknownWebhook,
  RESTJSONErrorCodes.UnknownInteraction,
]);

export async function showReply(
  ctx: Context,
  interaction: RepliableInteraction,
  spec: MessageSpec,
): Promise<{ id: string; channelId: string }> {
  try {
    const message = await interaction.editReply(toInteractionReply(spec));
    return { id: message.id, channelId: message.channelId };
  } catch (error) {
    if (!(error instanceof DiscordAPIError && TOKEN_GONE.has(error.code)) || !interaction.channelId)
      throw error;
    ctx.log.info(
      { server: interaction.guildId },
      'discord: the interaction expired; posting with the bot token',
    );
    const posted = (await ctx.rest.post(
      Routes.channelMessages(interaction.channelId),
      toRest(spec),
    )) as APIMessage;
    return { id: posted.id, channelId: posted.channel_id };
  }
}
