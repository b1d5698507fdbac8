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
    rest: {
      ...(config.apiUrl ? { api: config.apiUrl } : {}),
      ...(config.cdnUrl ? { cdn: config.cdnUrl } : {}),
    },
    allowedMentions: { parse: [] },
    makeCache: Options.cacheWithLimits({
      ...Options.DefaultMakeCacheSettings,
      MessageManager: 0,
      GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
      UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
    }),
  });
}
