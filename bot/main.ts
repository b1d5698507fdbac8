/**
 * `npm start`: the bot. It opens the database (SQLite at $DATA_DIR/stylize.db unless DATABASE_URL names a
 * PostgreSQL server), connects to Discord and/or Slack (whichever is configured), passes job events to them,
 * runs BOT_WORKERS worker processes beside itself, and deletes expired images (see bot.ts). With neither
 * platform configured it still runs the job system and logs each event.
 */

import { startDiscord } from '../discord/index.ts';
import { createLogger } from '../lib/log.ts';
import { startSlack } from '../slack/index.ts';
import { runBot } from './bot.ts';
import { loadBotConfig } from './bot-config.ts';

const config = loadBotConfig(process.env);
const log = createLogger(config.process, 'bot');
await runBot({ config, env: process.env, log }, async (core) => ({
  discord: config.discord
    ? await startDiscord(core, config.discord, log, { jobDefaults: config.core.jobDefaults })
    : undefined,
  slack: config.slack ? await startSlack(core, config.slack, log) : undefined,
}));
