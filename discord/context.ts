import type { REST } from '@discordjs/rest';
import { PermissionFlagsBits } from 'discord.js';
import type { ServerChoiceCache } from '../chat/preset-choices.ts';
import type { DiscordRefs } from '../chat/refs.ts';
import type { Setups } from '../chat/setups.ts';
import type { Logger } from '../lib/log.ts';
import type { Core, JobOptionsInput, ServerRef } from '../rules/index.ts';
import type { DiscordConfig } from './config.ts';

/** What every interaction handler gets. */
export interface Context {
  core: Core;
  config: DiscordConfig;
  log: Logger;
  rest: REST;
  setups: Setups<number, DiscordRefs>;
  /** Job options for what the member leaves out (the core's defaults for the rest). */
  jobDefaults: JobOptionsInput;
  /** Each guild's presets and limits, for autocompletion (see serverChoiceCache). */
  choices: ServerChoiceCache;
}

export const serverOf = (guildId: string): ServerRef => ({ platform: 'discord', id: guildId });

/** Discord's upload limit without boosts, when an interaction does not say. */
export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;

/**
 * Whether the member may manage the bot on this server (Manage Server). Checked on every admin action: a server
 * can show /stylize-admin to anyone in its Integrations settings, whatever the command's default permissions.
 */
export const isAdmin = (interaction: { memberPermissions: { has(bit: bigint): boolean } | null }) =>
  interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
