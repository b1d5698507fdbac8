/**
 * `npm start`: the bot. It opens the database (SQLite at $DATA_DIR/stylize.db unless DATABASE_URL names a
 * PostgreSQL server), connects to Discord and/or Slack (whichever is configured), passes job events to them,
 * runs BOT_WORKERS worker processes beside itself, and deletes expired images. With neither platform
 * configured it still runs the job system and logs each event.
 */
import { loadBotConfig } from './bot-config.ts';
import { openCore } from './core/core.ts';
import type { JobEvents } from './core/events.ts';
import type { JobView } from './core/jobs.ts';
import { startNotifier } from './core/notifier.ts';
import { startRetention } from './core/retention.ts';
import { startDiscord } from './discord/index.ts';
import { startHealthServer } from './health.ts';
import { createLogger, type Logger } from './log.ts';
import { onParentExit, onShutdownSignals } from './signals.ts';
import { startSlack } from './slack/index.ts';
import { startWorkerProcesses } from './worker-processes.ts';

/** Every event as a log line, beside what the adapters do with it. */
function loggedEvents(log: Logger): JobEvents {
  const fields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: job.platform });
  return {
    progress: async (job, p) =>
      log.debug(
        { ...fields(job), iteration: p.iteration, iterations: p.iterations, etaMs: p.etaMs },
        'job progress',
      ),
    completed: async (job, images) =>
      log.info({ ...fields(job), resultBytes: images.result.bytes.length }, 'job completed'),
    failed: async (job, message) => log.warn({ ...fields(job), message }, 'job failed'),
    cancelled: async (job) => log.info(fields(job), 'job cancelled'),
  };
}

const config = loadBotConfig(process.env);
const log = createLogger(config.process, 'bot');
const core = await openCore(config.core, log);
// Started before the adapters connect: /healthz answers at once, /readyz once they are connected.
let connected = false;
let stopping = false;
const health = await startHealthServer({
  ...config.health,
  db: core.db,
  log,
  check: () =>
    stopping
      ? { ready: false, reason: 'stopping' }
      : connected
        ? { ready: true }
        : { ready: false, reason: 'chat adapters connecting' },
});
const adapters = [
  ...(config.discord
    ? [await startDiscord(core, config.discord, log, { jobDefaults: config.core.jobDefaults })]
    : []),
  ...(config.slack ? [await startSlack(core, config.slack, log)] : []),
];
connected = true;
if (adapters.length === 0) log.warn('neither Discord nor Slack is configured: job events are only logged');
// Each adapter ignores the other platform's jobs, so every event simply goes to all of them.
const events = [loggedEvents(log), ...adapters.map((a) => a.events)];
const notifier = startNotifier(core, {
  progress: async (job, p) => void (await Promise.all(events.map((e) => e.progress(job, p)))),
  completed: async (job, images) => void (await Promise.all(events.map((e) => e.completed(job, images)))),
  failed: async (job, message) => void (await Promise.all(events.map((e) => e.failed(job, message)))),
  cancelled: async (job) => void (await Promise.all(events.map((e) => e.cancelled(job)))),
});
const workers = startWorkerProcesses(config.localWorkers, log, process.env);

const retention = startRetention(core);

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  health.markStopping();
  retention.stop();
  await workers.stop();
  await notifier.stop();
  await Promise.all(adapters.map((a) => a.stop()));
  await health.close();
  await core.close();
  process.exit(0);
}
// A second SIGTERM or SIGINT exits at once (status 1).
onShutdownSignals((signal) => void shutdown(signal));
// Run by `npm start`: npm passes signals on, but if npm itself is killed the bot and its workers stop too.
if (config.process.npmScript) onParentExit(() => void shutdown('npm exited'));
