import { registerJobGauges } from '../jobs/gauges.ts';
import type { Env } from '../lib/env.ts';
import { type Readiness, startHealthServer } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import { onParentExit, onShutdownSignals } from '../lib/signals.ts';
import { installBundledPresets } from '../presets/bundled.ts';
import { type Core, type JobEvents, openCore, startNotifier, startRetention } from '../rules/index.ts';
import type { BotConfig } from './bot-config.ts';
import { startWorkerProcesses } from './worker-processes.ts';

/**
 * The bot's process, whichever way it meets the chat platforms (`npm start`: main.ts; the shard manager of
 * `npm run start:sharded`: discord/shard.ts): the core, the bundled paintings in an empty presets folder, the
 * health server, the chat adapters, the one notifier that passes each job's events to the adapter of its
 * platform, BOT_WORKERS worker processes beside it, the image retention, and a graceful stop on SIGTERM or
 * SIGINT (or when npm, which started it, goes away).
 */
export interface ChatAdapter {
  /** The core's JobEvents for this platform's jobs. */
  events: JobEvents;
  /** Whether it is connected to its platform now (Discord: every gateway shard ready or resumed). */
  readiness(): Readiness;
  stop(): Promise<void>;
}

/** The adapters of the platforms configured; a platform left out is not served. */
export interface ChatAdapters {
  discord?: ChatAdapter | undefined;
  slack?: ChatAdapter | undefined;
}

/** `env`: the environment the bot's worker processes get (less the chat platforms' variables). */
export async function runBot(
  { config, env, log }: { config: BotConfig; env: Env; log: Logger },
  startAdapters: (core: Core) => Promise<ChatAdapters>,
): Promise<void> {
  const core = await openCore(config.core, log);
  await installBundled(config.core.presetsDir, log);
  let adapters: ChatAdapters | undefined;
  let stopping = false;
  // Started before the adapters connect: /healthz answers at once, /readyz once they are connected.
  registerJobGauges(core.db);
  const health = await startHealthServer({
    ...config.health,
    db: core.db,
    log,
    check: () => {
      if (stopping) return { ready: false, reason: 'stopping' };
      if (!adapters) return { ready: false, reason: 'chat adapters connecting' };
      for (const adapter of Object.values(adapters)) {
        const readiness = adapter?.readiness();
        if (readiness && !readiness.ready) return readiness;
      }
      return { ready: true };
    },
  });
  adapters = await startAdapters(core);
  const started = Object.values(adapters).filter((a): a is ChatAdapter => a !== undefined);
  if (started.length === 0) log.warn('neither Discord nor Slack is configured: job events are only logged');
  const notifier = startNotifier(core, {
    ...(adapters.discord ? { discord: adapters.discord.events } : {}),
    ...(adapters.slack ? { slack: adapters.slack.events } : {}),
  });
  const workers = startWorkerProcesses(config.localWorkers, log, env);
  const retention = startRetention(core);

  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    health.markStopping();
    retention.stop();
    await workers.stop();
    await notifier.stop();
    await Promise.all(started.map((a) => a.stop()));
    await health.close();
    await core.close();
    process.exit(0);
  }
  // A second SIGTERM or SIGINT exits at once (status 1).
  onShutdownSignals((signal) => void shutdown(signal));
  // Run by `npm start`: npm passes signals on, but if npm itself is killed the bot and its workers stop too.
  if (config.process.npmScript) onParentExit(() => void shutdown('npm exited'));
}

/**
 * The bundled paintings, copied into the presets folder when it is empty, so that a new bot offers paintings with
 * nothing downloaded. A folder that cannot be written is the operator's to fix: the bot runs on without them.
 */
async function installBundled(dir: string, log: Logger): Promise<void> {
  try {
    const installed = await installBundledPresets(dir);
    if (installed.length > 0) {
      log.info({ dir, presets: installed }, 'presets: the folder was empty; installed the bundled paintings');
    }
  } catch (error) {
    log.warn({ dir, err: String(error) }, 'presets: could not install the bundled paintings');
  }
}
