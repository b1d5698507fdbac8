import type { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import type Sqlite from 'better-sqlite3';
import { SQLITE_BUSY_TIMEOUT_MS } from './migrate.ts';

/**
 * SQLite's write lock waited for without stopping the process. better-sqlite3 runs each statement synchronously
 * on the calling thread, and SQLite's busy handler sleeps there while another connection (a worker process)
 * holds the write lock: with a busy timeout, a worker's write transaction of a few seconds would freeze the
 * bot's event loop for as long (no interaction answered in time, no heartbeat). So the connection is opened
 * without a busy timeout (SQLITE_BUSY comes back at once) and the waiting is done here, between tries, on
 * timers:
 * - a statement outside a transaction that meets SQLITE_BUSY has had no effect, so it is sent again;
 * - a transaction takes the write lock as it begins (BEGIN IMMEDIATE), tried again while another connection
 *   holds it. Its statements then never meet SQLITE_BUSY: a deferred transaction could meet it at its first
 *   write, where only the whole transaction can be tried again (its snapshot may be out of date).
 * Waits start at {@link FIRST_WAIT_MS} and double up to {@link LONGEST_WAIT_MS}; after SQLITE_BUSY_TIMEOUT_MS
 * the last SQLITE_BUSY is thrown, as a busy timeout would.
 */
const FIRST_WAIT_MS = 2;
const LONGEST_WAIT_MS = 50;

type Factory = PrismaBetterSqlite3;
type Adapter = Awaited<ReturnType<Factory['connect']>>;

/** `factory`'s connections, waiting for the write lock as described above; open it with `timeout: 0`. */
export function waitingForLocks(factory: Factory): Factory {
  const connect = async (inner: Promise<Adapter>) => withAsyncBusyWaits(await inner);
  return Object.assign(Object.create(factory) as Factory, {
    connect: () => connect(factory.connect()),
    connectToShadowDb: () => connect(factory.connectToShadowDb()),
  });
}

function withAsyncBusyWaits(adapter: Adapter): Adapter {
  // The adapter keeps its better-sqlite3 connection as `client`; BEGIN IMMEDIATE is sent on it directly.
  const db = (adapter as Adapter & { client: Sqlite.Database }).client;
  const queryRaw = adapter.queryRaw.bind(adapter);
  const executeRaw = adapter.executeRaw.bind(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  return Object.assign(adapter, {
    queryRaw: (query: Parameters<Adapter['queryRaw']>[0]) => whileBusy(() => queryRaw(query)),
    executeRaw: (query: Parameters<Adapter['executeRaw']>[0]) => whileBusy(() => executeRaw(query)),
    async startTransaction(isolationLevel?: Parameters<Adapter['startTransaction']>[0]) {
      // The adapter's own start takes its mutex (one transaction at a time on the connection) and sends a
      // deferred BEGIN, which takes no lock: that is undone and the transaction begun again, IMMEDIATE.
      const transaction = await startTransaction(isolationLevel);
      try {
        db.exec('ROLLBACK');
        await whileBusy(async () => db.exec('BEGIN IMMEDIATE'));
      } catch (error) {
        await transaction.rollback(); // releases the mutex; no transaction is open on the connection
        throw error;
      }
      return transaction;
    },
  });
}

/** Calls `attempt` until it does not fail with SQLITE_BUSY, sleeping between tries (see above). */
async function whileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  let wait = FIRST_WAIT_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error) || Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, LONGEST_WAIT_MS);
    }
  }
}

/**
 * SQLITE_BUSY and its extended codes: better-sqlite3's own error, or the driver adapter's, which names every
 * SQLITE_BUSY* (and nothing else) `SocketTimeout`.
 */
function isBusy(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown; cause?: { kind?: unknown } } | null;
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_BUSY')) return true;
  return e?.name === 'DriverAdapterError' && e.cause?.kind === 'SocketTimeout';
}
