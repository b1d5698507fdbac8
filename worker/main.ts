/**
 * `npm run worker`: one worker process. It needs only the database URL (and the VGG-19 weights): images travel
 * through the database. Run several, on this machine or others, against one PostgreSQL database to paint more
 * at once; `npm start` runs BOT_WORKERS of them beside the bot.
 */
import { loadConfig } from '../src/config.ts';
import { openCore } from '../src/core/core.ts';
import { createLogger } from '../src/log.ts';
import { startWorker } from './loop.ts';
import { Painter } from './paint.ts';

const config = loadConfig();
const log = createLogger(config, 'worker');

const core = await openCore(config, log);
const painter = new Painter({ weightsDir: config.weightsDir, backend: config.worker.backend });
const worker = startWorker(core, painter);

let stopping: Promise<void> | undefined;
function shutdown(signal: string): Promise<void> {
  stopping ??= (async () => {
    log.info({ signal }, 'stopping');
    await worker.stop();
    painter.dispose();
    await core.close();
    process.exit(0);
  })();
  return stopping;
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
// Started by the bot (npm start): stop when the bot goes away, however it went (the IPC channel closes).
if (process.channel) process.on('disconnect', () => void shutdown('bot exited'));
