/**
 * Routes interactions to their handlers: slash commands by name, autocompletion by command and option,
 * buttons by custom id, each with its first answer guarded (first-answer.ts). Interactions from outside a server (the commands are registered guild-only, so only a
 * stale or forged one) are answered, ephemerally, that the bot works in servers. A handler that throws is
 * logged and the member gets a general apology; nothing that happens here stops the bot.
 */

import {
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  Events,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
  type StringSelectMenuInteraction,
  type UserContextMenuCommandInteraction,
} from 'discord.js';
import { handleAdmin, isAdmin } from './admin.ts';
import { COMMAND } from './commands/definitions.ts';
import type { Context } from './context.ts';
import { handleDeleteButton, parseDeleteButtonId } from './deletion.ts';
import { safeError } from './errors.ts';
import { answer, type Deferral, guardFirstAnswer } from './first-answer.ts';
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

/** A handler and what it takes; `deferral`: how the first answer goes if the guard gives it (first-answer.ts). */
interface Route {
  matches(interaction: Interaction): boolean;
  deferral: Deferral;
  handle(ctx: Context, interaction: Interaction): Promise<void>;
}

const command = (
  name: string,
  deferral: Deferral,
  handle: (ctx: Context, interaction: ChatInputCommandInteraction) => Promise<void>,
): Route => ({
  matches: (i) => i.isChatInputCommand() && i.commandName === name,
  deferral,
  handle: (ctx, i) => handle(ctx, i as ChatInputCommandInteraction),
});

const button = (
  parse: (customId: string) => unknown,
  deferral: Deferral,
  handle: (ctx: Context, interaction: ButtonInteraction) => Promise<void>,
): Route => ({
  matches: (i) => i.isButton() && parse(i.customId) !== undefined && parse(i.customId) !== null,
  deferral,
  handle: (ctx, i) => handle(ctx, i as ButtonInteraction),
});

const autocomplete: Route = {
  matches: (i) => i.isAutocomplete(),
  deferral: 'ephemeral',
  async handle(ctx, i) {
    const interaction = i as AutocompleteInteraction;
    const name = interaction.commandName;
    if (name === COMMAND.stylize || (name === COMMAND.admin && isAdmin(interaction))) {
      await handleAutocomplete(ctx, interaction);
    } else await interaction.respond([]);
  },
};

const messageCommand = (
  name: string,
  handle: (ctx: Context, interaction: MessageContextMenuCommandInteraction) => Promise<void>,
): Route => ({
  matches: (i) => i.isMessageContextMenuCommand() && i.commandName === name,
  deferral: 'ephemeral',
  handle: (ctx, i) => handle(ctx, i as MessageContextMenuCommandInteraction),
});

const userCommand = (
  name: string,
  handle: (ctx: Context, interaction: UserContextMenuCommandInteraction) => Promise<void>,
): Route => ({
  matches: (i) => i.isUserContextMenuCommand() && i.commandName === name,
  deferral: 'ephemeral',
  handle: (ctx, i) => handle(ctx, i as UserContextMenuCommandInteraction),
});

const pickerSelect: Route = {
  matches: (i) => i.isStringSelectMenu() && parsePickerId(i.customId) !== undefined,
  deferral: 'update',
  handle: (ctx, i) => handlePickerSelect(ctx, i as StringSelectMenuInteraction),
};

const ROUTES: readonly Route[] = [
  autocomplete,
  command(COMMAND.stylize, 'public', handleStylize),
  command(COMMAND.presets, 'ephemeral', handlePresets),
  command(COMMAND.admin, 'ephemeral', handleAdmin),
  command(COMMAND.history, 'ephemeral', handleHistory),
  command(COMMAND.help, 'ephemeral', handleHelp),
  messageCommand(COMMAND.stylizeMessage, handleStylizeMessage),
  userCommand(COMMAND.paintAvatar, handlePaintAvatar),
  pickerSelect,
  button(parsePickerId, 'public', handlePickerPaint),
  button(parseDeleteButtonId, 'ephemeral', handleDeleteButton),
  button(render.parseCancelButtonId, 'ephemeral', handleCancelButton),
  button(render.parseVariationButtonId, 'public', handleVariationButton),
  button(render.parseTimelapseButtonId, 'public', handleTimelapseButton),
];

export function routeInteractions(client: Client, ctx: Context): void {
  client.on(Events.InteractionCreate, (interaction) => {
    void handleInteraction(ctx, interaction);
  });
}

export async function handleInteraction(ctx: Context, interaction: Interaction): Promise<void> {
  const route = ROUTES.find((r) => r.matches(interaction));
  const fields = { server: interaction.guildId, kind: interaction.type };
  const disarm = guardFirstAnswer(interaction, route?.deferral ?? 'ephemeral', (error) =>
    ctx.log.warn({ ...fields, err: safeError(error) }, 'discord: could not defer in time'),
  );
  try {
    if (!interaction.inGuild()) {
      if (interaction.isAutocomplete()) await interaction.respond([]);
      else if (interaction.isRepliable()) {
        await interaction.reply({ content: render.messages.guildOnly, flags: MessageFlags.Ephemeral });
      }
      return;
    }
    await route?.handle(ctx, interaction);
  } catch (error) {
    ctx.log.error({ ...fields, err: safeError(error) }, 'discord: interaction failed');
    if (!interaction.isRepliable()) return;
    try {
      await answer(interaction, { content: render.errorMessage(error), flags: MessageFlags.Ephemeral });
    } catch {
      // The interaction expired or was answered meanwhile; the log line above is all there is to do.
    }
  } finally {
    disarm();
  }
}
