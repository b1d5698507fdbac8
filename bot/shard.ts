/**
 * `npm run start:sharded`: the bot under discord.js's ShardingManager, for when it is in more guilds than one
 * gateway connection may serve (Discord requires shards from 2,500 guilds on, and says how many in
 * GET /gateway/bot). The single-process `npm start` stays the default; see docs/discord.md.
 *
 * This file plays both parts:
 *  - the manager (run directly): the bot's process as `npm start` runs it (bot/bot.ts: the core, the health
 *    server, the one notifier, BOT_WORKERS worker processes, the image retention), with Slack served here when it
 *    is configured and Discord's job events delivered over REST (events are read once from the database, so
 *    there is one notifier for the whole bot); it spawns one process per shard, Discord's recommended number of
 *    them, and is ready while every shard's gateway connection is;
 *  - a shard (spawned with --shard; discord.js passes SHARDS and SHARD_COUNT, which the client reads): opens the
 *    core and answers the interactions of its guilds, and nothing else.
 *
 * Configuration is the same environment as `npm start` (DISCORD_TOKEN, DISCORD_APPLICATION_ID, SLACK_…).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REST } from '@discordjs/rest';
import { ShardingManager } from 'discord.js';
import { type RESTGetAPIGatewayBotResult, Routes } from 'discord-api-types/v10';
import { restOptions } from '../discord/client.ts';
import type { DiscordConfig } from '../discord/config.ts';
import { startDiscord, startDiscordEvents } from '../discord/index.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { type Core, openCore } from '../rules/index.ts';
import { startSlack } from '../slack/index.ts';
import { type ChatAdapter, runBot } from './bot.ts';
import { type BotConfig, loadBotConfig } from './bot-config.ts';
import { LOADER_ARGS } from './entry-points.ts';

const SHARD_FLAG = '--shard';

/** Discord's recommended shard count for this bot. */
export async function recommendedShards(config: DiscordConfig): Promise<number> {
  const rest = new REST(restOptions(config)).setToken(config.token);
  const gateway = (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
  return Math.max(1, gateway.shards);
}

function discordOf(config: BotConfig): DiscordConfig {
  if (!config.discord) throw new Error('the sharded bot needs DISCORD_TOKEN and DISCORD_APPLICATION_ID');
  return config.discord;
}

async function runShard(): Promise<void> {
  const config = loadBotConfig(process.env);
  const discordConfig = discordOf(config);
  const log = createLogger(config.process, 'discord-shard');
  const core = await openCore(config.core, log);
  const discord = await startDiscord(core, discordConfig, log, { jobDefaults: config.core.jobDefaults });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await discord.stop();
    await core.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (process.channel) process.on('disconnect', () => void shutdown('manager exited'));
}

/**
 * Discord as the manager serves it: the shard processes (each with its gateway connection, reporting to the
 * manager when it is ready, disconnects and resumes) and the job events over REST.
 */
async function startShards(core: Core, config: DiscordConfig, log: Logger): Promise<ChatAdapter> {
  const delivery = startDiscordEvents(core, config, log);
  const totalShards = await recommendedShards(config);
  const manager = new ShardingManager(fileURLToPath(import.meta.url), {
    token: config.token,
    totalShards,
    shardArgs: [SHARD_FLAG],
    execArgv: [...LOADER_ARGS],
    respawn: true,
  });
  manager.on('shardCreate', (shard) => {
    log.info({ shard: shard.id, totalShards }, 'shard started');
    shard.on('disconnect', () => log.warn({ shard: shard.id }, 'shard: gateway disconnected'));
    shard.on('reconnecting', () => log.warn({ shard: shard.id }, 'shard: gateway reconnecting'));
    shard.on('resume', () => log.info({ shard: shard.id }, 'shard: gateway resumed'));
    shard.on('death', () => log.error({ shard: shard.id }, 'shard process exited; starting it again'));
  });
  await manager.spawn();
  return {
    events: delivery.events,
    readiness: () => {
      const down = [...manager.shards.values()].filter((shard) => !shard.ready).map((shard) => shard.id);
      return down.length === 0 && manager.shards.size === totalShards
        ? { ready: true }
        : { ready: false, reason: `Discord shards not connected: ${down.join(', ')}` };
    },
    async stop() {
      for (const shard of manager.shards.values()) shard.kill();
      await delivery.stop();
    },
  };
}

async function runManager(): Promise<void> {
  const config = loadBotConfig(process.env);
  const discordConfig = discordOf(config);
  const log = createLogger(config.process, 'discord-shards');
  await runBot({ config, env: process.env, log }, async (core) => ({
    discord: await startShards(core, discordConfig, log),
    slack: config.slack ? await startSlack(core, config.slack, log) : undefined,
  }));
}

const entry =
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (entry) {
  (process.argv.includes(SHARD_FLAG) ? runShard() : runManager()).catch((error: unknown) => {
    console.error(`stylize shards: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
