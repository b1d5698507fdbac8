import type { REST } from '@discordjs/rest';
import type { LRUCache } from 'lru-cache';
import type { Core, JobOptionsInput, ServerRef } from '../core/index.ts';
import type { Logger } from '../log.ts';
import type { DiscordConfig } from './config.ts';
import type { Setups } from './refs.ts';

/** What every interaction handler gets. */
export interface Context {
  core: Core;
  config: DiscordConfig;
  log: Logger;
  rest: REST;
  setups: Setups;
  /** Job options for what the member leaves out (the core's defaults for the rest). */
  jobDefaults: JobOptionsInput;
  /** Preset names by guild id, for autocompletion (see presetNameCache). */
  presetNames: LRUCache<string, string[]>;
}

export const serverOf = (guildId: string): ServerRef => ({ platform: 'discord', id: guildId });

/** Discord's upload limit without boosts, when an interaction does not say. */
export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;
