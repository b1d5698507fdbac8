/**
 * Routes interactions to the commands (commands/) and components (components/) that take them, each with its
 * first answer guarded (first-answer.ts) as its route declares; autocompletion goes to the command being typed.
 * Interactions from outside a server (the commands are registered guild-only, so only a stale or forged one)
 * are answered, ephemerally, that the bot works in servers. A handler that throws is logged and the member gets
 * a general apology; nothing that happens here stops the bot.
 */
import {
  type AutocompleteInteraction,
  type Client,
  Events,
  type Interaction,
  MessageFlags,
} from 'discord.js';
import { COMMANDS } from './commands/index.ts';
import { COMPONENTS } from './components/index.ts';
import type { Context } from './context.ts';
import { errorMessage, safeError } from './errors.ts';
import { answer, guardFirstAnswer } from './first-answer.ts';
import type { Route } from './route.ts';

const messages = {
  guildOnly:
    'I work in servers only: a painting, its queue and its limits belong to a server. ' +
    'Use /stylize in a server we share.',
} as const;

/** Choices from the command being typed; none for a command that offers none (or that is not ours). */
const autocomplete: Route = {
  matches: (i) => i.isAutocomplete(),
  deferral: 'ephemeral',
  async handle(ctx, i) {
    const interaction = i as AutocompleteInteraction;
    const command = COMMANDS.find((c) => c.data.name === interaction.commandName);
    if (command?.autocomplete) await command.autocomplete(ctx, interaction);
    else await interaction.respond([]);
  },
};

const ROUTES: readonly Route[] = [autocomplete, ...COMMANDS, ...COMPONENTS];

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
        await interaction.reply({ content: messages.guildOnly, flags: MessageFlags.Ephemeral });
      }
      return;
    }
    await route?.handle(ctx, interaction);
  } catch (error) {
    ctx.log.error({ ...fields, err: safeError(error) }, 'discord: interaction failed');
    if (!interaction.isRepliable()) return;
    try {
      await answer(interaction, { content: errorMessage(error), flags: MessageFlags.Ephemeral });
    } catch {
      // The interaction expired or was answered meanwhile; the log line above is all there is to do.
    }
  } finally {
    disarm();
  }
}
