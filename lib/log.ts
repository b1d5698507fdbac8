import { pino } from 'pino';
import type { ProcessConfig } from './env.ts';

export type Logger = pino.Logger;

/**
 * One JSON line per event on stdout. Job lines carry `jobId`, `server` and `platform`; nothing secret is ever
 * passed to a logger (the database URL is logged as its provider only), and `redact` is the safety net.
 */
export function createLogger(config: Pick<ProcessConfig, 'logLevel'>, name: string): Logger {
  return pino({
    name,
    level: config.logLevel,
    redact: { paths: ['*.token', '*.password', '*.url', '*.connectionString'], censor: '[redacted]' },
  });
}
