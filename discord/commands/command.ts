/**
 * A command of the bot, as each module of this folder declares it: its definition (the JSON body `npm run
 * register` sends to Discord), its deferral for the first-answer guard, its handler and, where the member is
 * offered choices while typing an option, its autocompletion.
 *
 * All the commands are guild-only (contexts: Guild; installable to servers only): jobs, quotas, presets and
 * the queue all belong to one server, and a DM has no server to charge a job to or admins to manage it.
 */
import {
  ApplicationIntegrationType,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type ContextMenuCommandBuilder,
  type Interaction,
  InteractionContextType,
  type MessageContextMenuCommandInteraction,
  type RESTPostAPIApplicationCommandsJSONBody,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
  type SlashCommandBuilder,
  type UserContextMenuCommandInteraction,
} from 'discord.js';
import type { Context } from '../context.ts';
import type { Deferral } from '../first-answer.ts';
import type { Route } from '../route.ts';

export interface Command extends Route {
  data: RESTPostAPIApplicationCommandsJSONBody;
  autocomplete?(ctx: Context, interaction: AutocompleteInteraction): Promise<void>;
}

type Handler<I> = (ctx: Context, interaction: I) => Promise<void>;

interface CommandSpec<I, D> {
  /** A discord.js builder of the definition. */
  data: { toJSON(): D };
  deferral: Deferral;
  execute: Handler<I>;
  autocomplete?: Handler<AutocompleteInteraction>;
}

export function guildOnly<T extends SlashCommandBuilder | ContextMenuCommandBuilder>(builder: T): T {
  builder
    .setContexts(InteractionContextType.Guild)
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall);
  return builder;
}

/** A slash command: `/name`, with its options. */
export const slashCommand = (
  spec: CommandSpec<ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody>,
) => command((i): i is ChatInputCommandInteraction => i.isChatInputCommand(), spec);

/** A message command: Apps → name, on a message. */
export const messageCommand = (
  spec: CommandSpec<MessageContextMenuCommandInteraction, RESTPostAPIContextMenuApplicationCommandsJSONBody>,
) => command((i): i is MessageContextMenuCommandInteraction => i.isMessageContextMenuCommand(), spec);

/** A user command: Apps → name, on a member. */
export const userCommand = (
  spec: CommandSpec<UserContextMenuCommandInteraction, RESTPostAPIContextMenuApplicationCommandsJSONBody>,
) => command((i): i is UserContextMenuCommandInteraction => i.isUserContextMenuCommand(), spec);

function command<
  I extends
    | ChatInputCommandInteraction
    | MessageContextMenuCommandInteraction
    | UserContextMenuCommandInteraction,
  D extends RESTPostAPIApplicationCommandsJSONBody,
>(isKind: (interaction: Interaction) => interaction is I, spec: CommandSpec<I, D>): Command {
  const data = spec.data.toJSON();
  return {
    data,
    deferral: spec.deferral,
    matches: (i) => isKind(i) && i.commandName === data.name,
    handle: (ctx, i) => spec.execute(ctx, i as I),
    ...(spec.autocomplete ? { autocomplete: spec.autocomplete } : {}),
  };
}
