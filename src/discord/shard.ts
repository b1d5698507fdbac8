/**
 * `npm run start:sharded`: the bot under discord.js's ShardingManager, for when it is in more guilds than one
 * gateway connection may serve (Discord requires shards from 2,500 guilds on, and says how many in
 * GET /gateway/bot). The single-process `npm start` stays the default; see the README.
 *
 * This file plays both parts:
 *  - the manager (run directly): opens the core, delivers the job events over REST (one notifier for the whole
 *    bot: events are read once from the database), runs BOT_WORKERS worker processes and the image retention,
 *    and spawns one process per shard, Discord's recommended number of them;
 *  - a shard (spawned with --shard; discord.js passes SHARDS and SHARD_COUNT, which the client reads): opens the
 *    core and answers the interactions of its guilds, and nothing else.
 *
 * Configuration is the same environment as `npm start` (DISCORD_TOKEN, DISCORD_APPLICATION_ID, …).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REST } from '@discordjs/rest';
import { ShardingManager } from 'discord.js';
import { type RESTGetAPIGatewayBotResult, Routes } from 'discord-api-types/v10';
import { type BotConfig, loadBotConfig } from '../bot-config.ts';
import { openCore, startNotifier, startRetention } from '../core/index.ts';
import { LOADER_ARGS } from '../entry-points.ts';
import { createLogger } from '../log.ts';
import { startWorkerProcesses } from '../worker-processes.ts';
import { restOptions } from './client.ts';
import type { DiscordConfig } from './config.ts';
import { startDiscord, startDiscordEvents } from './index.ts';

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

async function runManager(): Promise<void> {
  const config = loadBotConfig(process.env);
  const discordConfig = discordOf(config);
  const log = createLogger(config.process, 'discord-shards');
  const core = await openCore(config.core, log);
  const delivery = startDiscordEvents(core, discordConfig, log);
  const notifier = startNotifier(core, delivery.events);
  const workers = startWorkerProcesses(config.localWorkers, log, process.env);
  const retention = startRetention(core);

  const totalShards = await recommendedShards(discordConfig);
  const manager = new ShardingManager(fileURLToPath(import.meta.url), {
    token: discordConfig.token,
    totalShards,
    shardArgs: [SHARD_FLAG],
    execArgv: [...LOADER_ARGS],
    respawn: true,
  });
  manager.on('shardCreate', (shard) => log.info({ shard: shard.id, totalShards }, 'shard started'));
  await manager.spawn();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    retention.stop();
    for (const shard of manager.shards.values()) shard.kill();
    await workers.stop();
    await notifier.stop();
    await delivery.stop();
    await core.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
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
