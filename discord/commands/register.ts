/**
 * Registers the commands of this folder (slash commands, and the Apps menu's message and user commands) with
 * Discord:
 *
 *   npm run register                  # globally (every server the bot is in)
 *   npm run register -- --guild ID    # one server only, updated instantly: for development
 *
 * Reads DISCORD_TOKEN, DISCORD_APPLICATION_ID and optionally DISCORD_API_URL (discord/config.ts). A bulk
 * overwrite (PUT): commands no longer defined are removed, and registering twice changes nothing.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REST } from '@discordjs/rest';
import {
  ApplicationCommandType,
  type RESTPostAPIApplicationCommandsJSONBody,
  type RESTPutAPIApplicationCommandsResult,
  Routes,
} from 'discord-api-types/v10';
import { type DiscordRegisterConfig, requireDiscordConfig } from '../config.ts';
import { commandDefinitions } from './index.ts';

export interface RegisterOptions extends DiscordRegisterConfig {
  /** Register to this guild only; globally without it. */
  guildId?: string;
  commands?: RESTPostAPIApplicationCommandsJSONBody[];
}

/** Overwrites the application's commands (global, or one guild's) and returns what Discord stored. */
export async function registerCommands(
  options: RegisterOptions,
): Promise<RESTPutAPIApplicationCommandsResult> {
  const rest = new REST(options.apiUrl ? { api: options.apiUrl } : {}).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  return (await rest.put(route, {
    body: options.commands ?? commandDefinitions,
  })) as RESTPutAPIApplicationCommandsResult;
}

/** One line per command, for the terminal. */
export function describeRegistered(result: RESTPutAPIApplicationCommandsResult, guildId?: string): string {
  const where = guildId ? `to guild ${guildId}` : 'globally';
  const lines = result.map((c) =>
    c.type === ApplicationCommandType.ChatInput
      ? `  /${c.name} (id ${c.id})${subcommands(c.options)}`
      : `  Apps → ${c.name} (id ${c.id}, on ${c.type === ApplicationCommandType.Message ? 'a message' : 'a member'})`,
  );
  return [`Registered ${result.length} command(s) ${where}:`, ...lines].join('\n');
}

function subcommands(options: RESTPutAPIApplicationCommandsResult[number]['options']): string {
  const names: string[] = [];
  for (const option of options ?? []) {
    if (option.type === 2) for (const sub of option.options ?? []) names.push(`${option.name} ${sub.name}`);
    else if (option.type === 1) names.push(option.name);
  }
  return names.length ? `: ${names.join(', ')}` : '';
}

export async function main(argv: string[] = process.argv.slice(2), env = process.env): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { guild: { type: 'string' } }, strict: true });
  const guildId = values.guild;
  if (guildId !== undefined && !/^\d{17,20}$/.test(guildId)) {
    throw new Error('--guild must be a server id (a snowflake: 17-20 digits)');
  }
  const { token, applicationId, apiUrl } = requireDiscordConfig(env);
  const result = await registerCommands({ token, applicationId, apiUrl, ...(guildId ? { guildId } : {}) });
  console.log(describeRegistered(result, guildId));
  if (!guildId) console.log('Global commands can take a few minutes to show up in every server.');
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedDirectly) {
  main().catch((error: unknown) => {
    // discord.js errors carry the route and status, never the token.
    console.error(`register: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
