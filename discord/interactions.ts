/**
 * Routes interactions to their handlers: slash commands by name, autocompletion by command and option,
 * buttons by custom id. Interactions from outside a server (the commands are registered guild-only, so only a
 * stale or forged one) are answered, ephemerally, that the bot works in servers. A handler that throws is
 * logged and the member gets a general apology; nothing that happens here stops the bot.
 */

import { type Client, Events, type Interaction, MessageFlags } from 'discord.js';
import { handleAdmin, isAdmin } from './admin.ts';
import { COMMAND } from './commands/definitions.ts';
import type { Context } from './context.ts';
import { handleDeleteButton, parseDeleteButtonId } from './deletion.ts';
import { safeError } from './errors.ts';
import { handleHelp } from './help.ts';
import { handleHistory } from './history.ts';
import {
  handlePaintAvatar,
  handlePickerPaint,
  handlePickerSelect,
  handleStylizeMessage,
  parsePickerId,
} from './picker.ts';
import { handleAutocomplete, handlePresets } from './presets.ts';
import * as render from './render.ts';
import { handleCancelButton, handleStylize } from './stylize.ts';
import { handleTimelapseButton } from './timelapse.ts';
import { handleVariationButton } from './variations.ts';

export function routeInteractions(client: Client, ctx: Context): void {
  client.on(Events.InteractionCreate, (interaction) => {
    void handleInteraction(ctx, interaction);
  });
}

export async function handleInteraction(ctx: Context, interaction: Interaction): Promise<void> {
  try {
    if (!interaction.inGuild()) {
      if (interaction.isAutocomplete()) await interaction.respond([]);
      else if (interaction.isRepliable()) {
        await interaction.reply({ content: render.messages.guildOnly, flags: MessageFlags.Ephemeral });
      }
      return;
    }
    if (interaction.isAutocomplete()) {
      const command = interaction.commandName;
      if (command === COMMAND.stylize || (command === COMMAND.admin && isAdmin(interaction))) {
        await handleAutocomplete(ctx, interaction);
      } else await interaction.respond([]);
      return;
    }
    if (interaction.isChatInputCommand()) {
      switch (interaction.commandName) {
        case COMMAND.stylize:
          return await handleStylize(ctx, interaction);
        case COMMAND.presets:
          return await handlePresets(ctx, interaction);
        case COMMAND.admin:
          return await handleAdmin(ctx, interaction);
        case COMMAND.history:
          return await handleHistory(ctx, interaction);
        case COMMAND.help:
          return await handleHelp(ctx, interaction);
      }
      return;
    }
    if (interaction.isMessageContextMenuCommand() && interaction.commandName === COMMAND.stylizeMessage) {
      return await handleStylizeMessage(ctx, interaction);
    }
    if (interaction.isUserContextMenuCommand() && interaction.commandName === COMMAND.paintAvatar) {
      return await handlePaintAvatar(ctx, interaction);
    }
    if (interaction.isStringSelectMenu() && parsePickerId(interaction.customId)) {
      return await handlePickerSelect(ctx, interaction);
    }
    if (interaction.isButton() && parsePickerId(interaction.customId)) {
      return await handlePickerPaint(ctx, interaction);
    }
    if (interaction.isButton() && parseDeleteButtonId(interaction.customId)) {
      return await handleDeleteButton(ctx, interaction);
    }
    if (interaction.isButton() && render.parseCancelButtonId(interaction.customId)) {
      await handleCancelButton(ctx, interaction);
    }
    if (interaction.isButton() && render.parseVariationButtonId(interaction.customId)) {
      await handleVariationButton(ctx, interaction);
    }
    if (interaction.isButton() && render.parseTimelapseButtonId(interaction.customId) !== undefined) {
      await handleTimelapseButton(ctx, interaction);
    }
  } catch (error) {
    ctx.log.error(
      { err: safeError(error), server: interaction.guildId, kind: interaction.type },
      'discord: interaction failed',
    );
    if (!interaction.isRepliable()) return;
    const apology = { content: render.errorMessage(error), flags: MessageFlags.Ephemeral } as const;
    try {
      if (interaction.deferred || interaction.replied) await interaction.followUp(apology);
      else await interaction.reply(apology);
    } catch {
      // The interaction expired or was answered meanwhile; the log line above is all there is to do.
    }
  }
}
