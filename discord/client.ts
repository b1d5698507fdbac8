import type { RESTOptions } from '@discordjs/rest';
import { Client, GatewayIntentBits, Options } from 'discord.js';
import type { DiscordConfig } from './config.ts';

/**
 * The discord.js client: the Guilds intent only (slash commands, buttons and autocomplete arrive as
 * interactions, which need no intent; Guilds keeps the guilds, channels and threads the bot is in), REST and
 * CDN bases from the configuration (the gateway URL then comes from that API's /gateway/bot), and small caches:
 * the adapter works from interactions and message ids, not from cached messages or members.
 */
export function createClient(config: Pick<DiscordConfig, 'apiUrl' | 'cdnUrl'>): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: restOptions(config),
    allowedMentions: { parse: [] },
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
      UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
    }),
  });
}

/**
 * The REST options of every Discord REST client here: the configured bases, and requests made with the runtime's
 * fetch. @discordjs/rest's default strategy calls its own undici (6) `request()`, which takes the process's global
 * dispatcher; once this project's undici (7, lib/download.ts) has loaded first, that is undici 7's Agent, which
 * cannot read the FormData of a message with files ("action is not a function": every image post of a bot started
 * with `npm start` failed so). fetch serialises the body itself, whichever dispatcher sends it.
 */
export function restOptions(config: Pick<DiscordConfig, 'apiUrl' | 'cdnUrl'>): Partial<RESTOptions> {
  return {
    ...(config.apiUrl ? { api: config.apiUrl } : {}),
    ...(config.cdnUrl ? { cdn: config.cdnUrl } : {}),
    makeRequest: fetch as unknown as RESTOptions['makeRequest'],
  };
}
