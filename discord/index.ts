/**
 * The Discord adapter: a thin layer between discord.js and the core.
 *
 *   const discord = await startDiscord(core, config.discord, log);   // logs in, answers interactions
 *   const notifier = startNotifier(core, { discord: discord.events }); // job events → thread messages
 *   …
 *   await notifier.stop(); await discord.stop();
 *
 * Run exactly one notifier per deployment: events are taken from the database once, by whichever notifier
 * drains first. Under the ShardingManager (shard.ts) the manager process delivers them with
 * startDiscordEvents, and the shards only answer interactions.
 */
import { once } from 'node:events';
import { REST, RESTEvents } from '@discordjs/rest';
import { Events } from 'discord.js';
import { serverChoiceCache } from '../chat/preset-choices.ts';
import type { DiscordRefs } from '../chat/refs.ts';
import { Setups } from '../chat/setups.ts';
import type { Readiness } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import { rateLimited } from '../lib/metrics.ts';
import type { Core, JobEvents, JobOptionsInput } from '../rules/index.ts';
import { createClient, restOptions } from './client.ts';
import type { DiscordConfig } from './config.ts';
import type { Context } from './context.ts';
import { safeError } from './errors.ts';
import { discordEvents } from './events.ts';
import { routeInteractions } from './interactions.ts';

export { type DiscordConfig, parseDiscordConfig, requireDiscordConfig } from './config.ts';

export interface DiscordAdapter {
  /** The core's JobEvents for Discord jobs; pass to startNotifier. */
  events: JobEvents;
  /** Ready while every gateway shard of this process is connected (ready, or resumed after a disconnect). */
  readiness(): Readiness;
  /** Stops answering and editing, and disconnects. */
  stop(): Promise<void>;
}

/** What startDiscordEvents returns: the events alone, without a gateway connection. */
export type DiscordEventsAdapter = Omit<DiscordAdapter, 'readiness'>;

export interface DiscordStartOptions {
  /** Job options for what members leave out (the operator's STYLIZE_ defaults); the core's for the rest. */
  jobDefaults?: JobOptionsInput;
}

/** Logs in to the gateway (Guilds intent), answers the slash commands and buttons, and returns the events. */
export async function startDiscord(
  core: Core,
  config: DiscordConfig,
  log: Logger,
  options: DiscordStartOptions = {},
): Promise<DiscordAdapter> {
  const discordLog = log.child({ adapter: 'discord' });
  const client = createClient(config);
  watchRest(client.rest, discordLog);
  client.on(Events.Error, (error) => discordLog.error({ err: safeError(error) }, 'discord: client error'));
  client.on(Events.Warn, (message) => discordLog.warn({ message }, 'discord: warning'));
  // Shards between a disconnect and their resume (or a new session): interactions cannot arrive meanwhile.
  const down = new Set<number>();
  client.on(Events.ShardDisconnect, (event, shard) => {
    down.add(shard);
    discordLog.warn({ shard, code: event.code }, 'discord: gateway disconnected');
  });
  let stopping = false;
  client.on(Events.ShardReconnecting, (shard) => {
    if (!down.has(shard) && !stopping) discordLog.warn({ shard }, 'discord: gateway reconnecting');
    down.add(shard);
  });
  client.on(Events.ShardResume, (shard) => {
    down.delete(shard);
    discordLog.info({ shard }, 'discord: gateway resumed');
  });
  client.on(Events.ShardReady, (shard) => down.delete(shard));

  const setups = new Setups<number, DiscordRefs>();
  const ctx: Context = {
    core,
    config,
    log: discordLog,
    rest: client.rest,
    setups,
    jobDefaults: options.jobDefaults ?? {},
    choices: serverChoiceCache(core),
  };
  routeInteractions(client, ctx);
  const events = discordEvents({
    core,
    rest: client.rest,
    log: discordLog,
    progressEditMs: config.progressEditMs,
    setups,
  });

  const ready = once(client, Events.ClientReady);
  try {
    await client.login(config.token);
    await ready;
  } catch (error) {
    await client.destroy();
    throw error;
  }
  discordLog.info(
    { bot: client.user?.id, guilds: client.guilds.cache.size, shards: client.shard?.ids ?? [0] },
    'discord: connected',
  );

  return {
    events,
    readiness: () =>
      down.size === 0 && client.isReady()
        ? { ready: true }
        : { ready: false, reason: 'the Discord gateway is disconnected; reconnecting' },
    async stop() {
      stopping = true;
      await events.stop();
      await client.destroy();
      discordLog.info('discord: disconnected');
    },
  };
}

/**
 * Only the job events, over REST with the bot token and no gateway connection: for the process that runs the
 * notifier when the gateway connections live elsewhere (the shard manager, shard.ts).
 */
export function startDiscordEvents(core: Core, config: DiscordConfig, log: Logger): DiscordEventsAdapter {
  const discordLog = log.child({ adapter: 'discord' });
  const rest = new REST(restOptions(config)).setToken(config.token);
  watchRest(rest, discordLog);
  const events = discordEvents({
    core,
    rest,
    log: discordLog,
    progressEditMs: config.progressEditMs,
    setups: new Setups(),
  });
  return { events, stop: () => events.stop() };
}

/** discord.js waits out 429s itself; they are logged (method and limits only: URLs can carry tokens). */
function watchRest(rest: REST, log: Logger): void {
  rest.on(RESTEvents.RateLimited, (info) => {
    rateLimited.inc({ platform: 'discord' });
    log.info(
      { method: info.method, retryAfterMs: info.retryAfter, global: info.global, scope: info.scope },
      'discord: rate limited; waiting',
    );
  });
}
