import { type DiscordConfig, parseDiscordConfig } from '../discord/config.ts';
import { type Env, type ProcessConfig, parseLocalWorkers, parseProcessConfig } from '../lib/env.ts';
import { type HealthConfig, parseHealthConfig } from '../lib/health.ts';
import { type CoreConfig, parseCoreConfig } from '../rules/index.ts';
import { parseSlackConfig, type SlackConfig } from '../slack/config.ts';

/**
 * What the bot reads (`npm start`, and the manager of `npm run start:sharded`): the core's settings, its health
 * server's, how many worker processes to run beside it, and each chat platform's where it is configured. The
 * engine's settings (WORKER_*, STYLIZE_WEIGHTS_DIR) are the workers' own: the bot never reads them.
 */
export interface BotConfig {
  process: ProcessConfig;
  core: CoreConfig;
  health: HealthConfig;
  /** BOT_WORKERS: worker processes run beside the bot. */
  localWorkers: number;
  /** Set when DISCORD_TOKEN / DISCORD_APPLICATION_ID are: the bot then serves Discord. */
  discord: DiscordConfig | undefined;
  /** Set when SLACK_BOT_TOKEN is: the bot then serves Slack. */
  slack: SlackConfig | undefined;
}

/** Parses the bot's variables once; throws a one-line Error naming each wrong one. */
export function loadBotConfig(env: Env): BotConfig {
  const core = parseCoreConfig(env);
  return {
    process: parseProcessConfig(env),
    core,
    health: parseHealthConfig(env, 'bot'),
    localWorkers: parseLocalWorkers(env),
    discord: parseDiscordConfig(env),
    slack: parseSlackConfig(env, core.jobDefaults),
  };
}
