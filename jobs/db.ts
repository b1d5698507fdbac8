import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { DatabaseConfig } from './config.ts';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.ts';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.ts';
import { migrate, SQLITE_BUSY_TIMEOUT_MS, sqlitePath } from './migrate.ts';
import { waitingForLocks } from './sqlite-busy.ts';

/**
 * The two generated clients have the same models and API. Code is typed against the SQLite one, the smaller
 * feature set, so nothing PostgreSQL-only slips into code that must run on both.
 */
export type Client = SqliteClient;
/** The client handed to a `$transaction(async (tx) => …)` callback. */
export type Tx = Parameters<Parameters<Client['$transaction']>[0]>[0];

/** The channel the workers NOTIFY on PostgreSQL when a job changed; its payload is the job id. */
export const JOB_EVENTS_CHANNEL = 'stylize_job_events';

export interface Database {
  readonly provider: DatabaseConfig['provider'];
  readonly url: string;
  readonly prisma: Client;
  /** Wakes the bot's notifier at once on PostgreSQL (NOTIFY); on SQLite the notifier polls. */
  notify(jobId: number): Promise<void>;
  close(): Promise<void>;
}

/** Interactive transactions may wait for SQLite's write lock, which other processes hold for a moment. */
export const TX_OPTIONS = { maxWait: SQLITE_BUSY_TIMEOUT_MS, timeout: 2 * SQLITE_BUSY_TIMEOUT_MS };

/** Connects, after bringing the schema up to date (every process does; see migrate.ts). */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  if (config.provider === 'sqlite') mkdirSync(dirname(sqlitePath(config.url)), { recursive: true });
  await migrate(config);
  if (config.provider === 'sqlite') {
    // No busy timeout: SQLite would wait for another process's write lock synchronously, stopping this process.
    const adapter = waitingForLocks(new PrismaBetterSqlite3({ url: sqlitePath(config.url), timeout: 0 }));
    // Every transaction, batches included, waits for the write lock as it begins (sqlite-busy.ts): as long as
    // its start may take.
    const prisma = new SqliteClient({ adapter, transactionOptions: TX_OPTIONS });
    return {
      provider: 'sqlite',
      url: config.url,
      prisma,
      notify: async () => {},
      close: () => prisma.$disconnect(),
    };
  }
  const adapter = new PrismaPg({ connectionString: config.url });
  const prisma = new PostgresClient({ adapter }) as unknown as Client;
  return {
    provider: 'postgresql',
    url: config.url,
    prisma,
    notify: async (jobId) => {
      await prisma.$executeRaw`SELECT pg_notify(${JOB_EVENTS_CHANNEL}, ${String(jobId)})`;
    },
    close: () => prisma.$disconnect(),
  };
}

export type { Job as JobRow, Server as ServerRow } from './generated/sqlite/client.ts';
