import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { type Env, host, parseEnv, port } from './env.ts';
import type { Logger } from './log.ts';
import { registry } from './metrics.ts';

/**
 * The health server of the bot and of each worker (plain node:http): /healthz answers 200 while the process runs,
 * /readyz 200 when the database answers and the process's own check passes (503 with a JSON reason otherwise,
 * also while it stops), /metrics the Prometheus text of lib/metrics.ts (with
 * the job gauges of jobs/gauges.ts where the process registered them). Nothing here reads configuration
 * secrets: the answers carry only states and counts.
 */
/** Where a health server listens: `port` 0 picks a free one. */
export interface HealthConfig {
  port: number;
  host: string;
}

const healthSchemas = {
  /** The bot's (and the shard manager's). */
  bot: z
    .object({ HEALTH_PORT: port(9090), HEALTH_HOST: host })
    .transform((e) => ({ port: e.HEALTH_PORT, host: e.HEALTH_HOST })),
  /** Each worker's; the bot gives the workers it runs port 0, so they never collide. */
  worker: z
    .object({ WORKER_HEALTH_PORT: port(9091), WORKER_HEALTH_HOST: host })
    .transform((e) => ({ port: e.WORKER_HEALTH_PORT, host: e.WORKER_HEALTH_HOST })),
};

/** HEALTH_PORT and HEALTH_HOST for the bot, WORKER_HEALTH_PORT and WORKER_HEALTH_HOST for a worker. */
export function parseHealthConfig(env: Env, role: keyof typeof healthSchemas): HealthConfig {
  return parseEnv(healthSchemas[role], env);
}

/** What readiness needs of the job system's database (jobs/db.ts): an answer to `SELECT 1`. */
export interface DatabasePing {
  readonly prisma: { $queryRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<unknown> };
}

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface HealthOptions {
  port: number;
  /** The address to listen on (HEALTH_HOST, WORKER_HEALTH_HOST); all interfaces by default. */
  host?: string;
  db: DatabasePing;
  log: Logger;
  /** The process's own readiness (adapters connected, worker taking jobs); the database is checked here. */
  check: () => Readiness;
}

export interface HealthServer {
  readonly port: number;
  /** /readyz answers 503 from now on (the process is stopping). */
  markStopping(): void;
  close(): Promise<void>;
}

const DB_TIMEOUT_MS = 2_000;

export async function readiness(
  db: DatabasePing,
  check: () => Readiness,
  stopping: boolean,
): Promise<Readiness> {
  if (stopping) return { ready: false, reason: 'stopping' };
  const own = check();
  if (!own.ready) return own;
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      db.prisma.$queryRaw`SELECT 1`,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), DB_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch {
    return { ready: false, reason: 'database unreachable' };
  }
  return { ready: true };
}

export async function startHealthServer(options: HealthOptions): Promise<HealthServer> {
  const { db, log, check } = options;
  let stopping = false;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    if (path === '/healthz') return json(200, { status: 'ok' });
    if (path === '/readyz') {
      void readiness(db, check, stopping).then((r) =>
        r.ready ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', reason: r.reason }),
      );
      return;
    }
    if (path === '/metrics') {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        })
        .catch((error) => {
          log.warn({ err: error }, 'could not collect metrics');
          json(500, { error: 'could not collect metrics' });
        });
      return;
    }
    json(404, { error: 'not found' });
  });
  // Keep-alive connections of a scraper must not hold the process open when it stops.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  log.info({ host: address, port }, 'health server listening');
  return {
    port,
    markStopping() {
      stopping = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
