import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseConfig } from './config.ts';

/**
 * Applies the hand-written SQL migrations in prisma/migrations/<provider>/ (Prisma's layout; Prisma's own
 * migrate needs a schema engine that cannot be installed everywhere the bot runs). Bookkeeping is our own
 * `_migrations` table. Every process runs this at start, so it must be safe when several start at once:
 * PostgreSQL serialises them with an advisory lock, SQLite with BEGIN IMMEDIATE (the database write lock).
 * Each pending migration is applied in its own transaction together with its bookkeeping row.
 */
export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATIONS_ROOT = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));
/** Any constant: it names this app's migration lock among the advisory locks of the database. */
const PG_LOCK_KEY = 7_424_242;
export const SQLITE_BUSY_TIMEOUT_MS = 15_000;

export function readMigrations(provider: DatabaseConfig['provider']): Migration[] {
  const dir = join(MIGRATIONS_ROOT, provider);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Brings the database up to date; returns the names of the migrations this call applied. */
export async function migrate(config: DatabaseConfig): Promise<string[]> {
  const migrations = readMigrations(config.provider);
  return config.provider === 'sqlite'
    ? migrateSqlite(sqlitePath(config.url), migrations)
    : migratePostgres(config.url, migrations);
}

export function sqlitePath(url: string): string {
  return url.replace(/^file:/, '');
}

const BOOKKEEPING =
  'CREATE TABLE IF NOT EXISTS "_migrations" ("name" TEXT NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)';

function migrateSqlite(path: string, migrations: Migration[]): string[] {
  const db = new Sqlite(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    // WAL lets the bot read while a worker writes; the setting is stored in the file, so once is enough.
    db.pragma('journal_mode = WAL');
    const applied: string[] = [];
    for (const migration of migrations) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(BOOKKEEPING);
        const row = db.prepare('SELECT "checksum" FROM "_migrations" WHERE "name" = ?').get(migration.name) as
          | { checksum: string }
          | undefined;
        if (row) {
          assertUnchanged(migration, row.checksum);
        } else {
          db.exec(migration.sql);
          db.prepare('INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES (?, ?, ?)').run(
            migration.name,
            migration.checksum,
            new Date().toISOString(),
          );
          applied.push(migration.name);
        }
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    }
    return applied;
  } finally {
    db.close();
  }
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PG_LOCK_KEY]);
    await client.query(BOOKKEEPING);
    const applied: string[] = [];
    for (const migration of migrations) {
      const { rows } = await client.query<{ checksum: string }>(
        'SELECT "checksum" FROM "_migrations" WHERE "name" = $1',
        [migration.name],
      );
      if (rows[0]) {
        assertUnchanged(migration, rows[0].checksum);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          'INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES ($1, $2, $3)',
          [migration.name, migration.checksum, new Date().toISOString()],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(migration.name);
    }
    return applied;
  } finally {
    // Ending the session releases the advisory lock too, even if the unlock is never reached.
    await client.end();
  }
}

function assertUnchanged(migration: Migration, checksum: string): void {
  if (checksum !== migration.checksum) {
    throw new Error(
      `migration ${migration.name} was edited after it was applied to this database; add a new migration instead`,
    );
  }
}
