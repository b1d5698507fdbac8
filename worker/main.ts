/**
 * `npm run worker`: one worker process. It needs only the database URL (and the VGG-19 weights): images travel
 * through the database. Run several, on this machine or others, against one PostgreSQL database to paint more
 * at once; `npm start` runs BOT_WORKERS of them beside the bot. It reads the core's, its own and its health
 * server's variables (worker/config.ts), never the chat platforms'.
 */
import { join } from 'node:path';
import { openCore, registerJobGauges } from '../jobs/worker-api.ts';
import { startHealthServer } from '../lib/health.ts';
import { createLogger } from '../lib/log.ts';
import { onParentExit, onShutdownSignals } from '../lib/signals.ts';
import { loadWorkerConfig } from './config.ts';
import { startWorker } from './loop.ts';
import { cpuThreads, Painter, workerMemory } from './paint.ts';

const config = loadWorkerConfig(process.env);
const log = createLogger(config.process, 'worker');

const core = await openCore(config.core, log);
const { worker: settings } = config;
const painter = await Painter.start(
  {
    weightsDir: settings.weightsDir,
    backend: settings.backend,
    threads: cpuThreads(settings.localWorkers),
    targetsCacheDir: join(config.core.dataDir, 'cache', 'targets'),
    layers: config.core.jobDefaults.layers,
    concurrency: settings.concurrency,
    memoryBytes: workerMemory(settings.localWorkers),
  },
  log,
);
// Without weights for what STYLIZE_LAYERS asks, the worker stays up but not ready, and says why.
const { problem } = (await painter.capability()).capability;
const worker = startWorker(core, painter, { concurrency: settings.concurrency });
registerJobGauges(core.db);
const health = await startHealthServer({
  ...config.health,
  db: core.db,
  log,
  check: () =>
    worker.stopping
      ? { ready: false, reason: 'stopping' }
      : problem
        ? { ready: false, reason: problem }
        : { ready: true },
});

let stopping: Promise<void> | undefined;
function shutdown(signal: string): Promise<void> {
  stopping ??= (async () => {
    log.info({ signal }, 'stopping');
    health.markStopping();
    await worker.stop();
    await health.close();
    painter.dispose();
    await core.close();
    process.exit(0);
  })();
  return stopping;
}
const startedByBot = process.channel !== undefined;
// A second SIGTERM or SIGINT exits at once (status 1); the job's heartbeat timeout then recovers it. A worker
// the bot runs is stopped by the bot (SIGTERM): the SIGINT of a Ctrl-C, which the terminal sends to the bot and
// its workers alike, is left to the bot, or the bot's SIGTERM would come second and cut the worker short
// before it put its job back.
onShutdownSignals(
  (signal) => void shutdown(signal),
  undefined,
  process,
  startedByBot ? ['SIGTERM'] : undefined,
);
if (startedByBot) {
  process.on('SIGINT', () => log.info('SIGINT: the bot stops its workers'));
  // Stop when the bot goes away, however it went (the IPC channel closes).
  process.on('disconnect', () => void shutdown('bot exited'));
} else if (config.process.npmScript) {
  onParentExit(() => void shutdown('npm exited'));
}
