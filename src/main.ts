/**
 * `npm start`: the bot. It opens the database (SQLite at $DATA_DIR/stylize.db unless DATABASE_URL names a
 * PostgreSQL server), passes job events to the chat adapters, runs BOT_WORKERS worker processes beside itself,
 * and deletes expired images. Until the Discord and Slack adapters land, the job events are logged.
 */
import { loadConfig } from './config.ts';
import { type JobEvents, type JobView, openCore, purgeExpired, startNotifier } from './core/index.ts';
import { createLogger, type Logger } from './log.ts';
import { startWorkerProcesses } from './worker-processes.ts';

const RETENTION_EVERY_MS = 15 * 60_000;

/** The stand-in for the chat adapters: every event as a log line. */
function loggedEvents(log: Logger): JobEvents {
  const fields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: job.platform });
  return {
    progress: async (job, p) =>
      log.info(
        { ...fields(job), iteration: p.iteration, iterations: p.iterations, etaMs: p.etaMs },
        'job progress',
      ),
    completed: async (job, images) =>
      log.info({ ...fields(job), resultBytes: images.result.bytes.length }, 'job completed'),
    failed: async (job, message) => log.warn({ ...fields(job), message }, 'job failed'),
    cancelled: async (job) => log.info(fields(job), 'job cancelled'),
  };
}

const config = loadConfig();
const log = createLogger(config, 'bot');
const core = await openCore(config, log);
const notifier = startNotifier(core, loggedEvents(log));
const workers = startWorkerProcesses(config.worker.localWorkers, log);

const purge = () =>
  purgeExpired(core, new Date())
    .then((purged) => purged.jobs > 0 && log.info(purged, 'expired images deleted'))
    .catch((error) => log.error({ err: error }, 'could not delete expired images'));
void purge();
const retention = setInterval(purge, RETENTION_EVERY_MS);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  clearInterval(retention);
  await workers.stop();
  await notifier.stop();
  await core.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
