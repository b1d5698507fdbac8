import { ImageTooLargeError } from './image-store.ts';

/**
 * Retrying writes through a database blip (a restart, a dropped connection, SQLite busy past its timeout, a
 * full disk being cleared): a painting that is done is worth minutes of work, so its worker keeps trying
 * rather than spend an attempt on painting it again.
 */

/**
 * Whether trying the same write again may succeed. Refusals that no retry changes are permanent: an image over
 * the store's limit, and a query Prisma rejects before sending it (a programming error). Anything else from
 * the database or its driver (connection lost or refused, timeouts, SQLITE_BUSY / SQLITE_FULL, PostgreSQL's
 * 08xxx, 53xxx, 57Pxx, 40001) is taken as passing; the driver adapters do not classify errors consistently
 * enough across SQLite and PostgreSQL to single those out reliably.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ImageTooLargeError) return false;
  if (error instanceof Error && error.name === 'PrismaClientValidationError') return false;
  return !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError);
}

export interface RetryPolicy {
  /** First wait, doubled after each failure up to maxMs. */
  minMs: number;
  maxMs: number;
  /** No new try starts after this time (ms since the epoch); the last error is thrown. */
  deadline: number;
  /** Stops waiting and throws the last error once aborted. */
  signal?: AbortSignal | undefined;
  /** Told of each failure that will be retried, with the wait before the next try. */
  onRetry?: (error: unknown, waitMs: number) => void;
}

/** Calls `write` until it resolves, retrying transient failures with exponential backoff. */
export async function retryTransient<T>(write: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let wait = policy.minMs;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      const next = Math.min(wait, Math.max(0, policy.deadline - Date.now()));
      if (!isTransient(error) || next <= 0 || policy.signal?.aborted) throw error;
      policy.onRetry?.(error, next);
      await abortableSleep(next, policy.signal);
      if (policy.signal?.aborted) throw error;
      wait = Math.min(wait * 2, policy.maxMs);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
