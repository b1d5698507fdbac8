import PQueue from 'p-queue';

/**
 * Progress edits in one place on a chat platform (a Discord channel, a Slack workspace), spaced with p-queue's
 * `intervalCap` per `interval` (a sliding window, so no burst straddling two windows goes over), so that many
 * jobs' edits in one place wait here rather than draw 429s. The rate is set below the platform's limit: the
 * writes that end a job do not wait here, and the room left is theirs. Places are independent: a busy channel
 * holds up no other.
 */
export interface WriteLimiter {
  /**
   * Rejects with `signal`'s reason, without writing, when it fires while the write waits for its turn. A write
   * that has started is always waited for, whatever the signal does: it settles as the write does.
   */
  run<T>(place: string, write: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Writes queued in `place`, not yet started. */
  waiting(place: string): number;
}

export interface WriteRate {
  /** Writes per `interval` ms. */
  readonly intervalCap: number;
  readonly interval: number;
}

export function writeLimiter(rate: WriteRate): WriteLimiter {
  const places = new Map<string, PQueue>();

  function queueOf(place: string): PQueue {
    let queue = places.get(place);
    if (!queue) {
      const created = new PQueue({ ...rate, strict: true });
      // An idle place is forgotten once its window has passed (a new queue then starts with a fresh window).
      created.on('idle', () => {
        setTimeout(() => {
          if (places.get(place) === created && created.size === 0 && created.pending === 0)
            places.delete(place);
        }, rate.interval).unref();
      });
      places.set(place, created);
      queue = created;
    }
    return queue;
  }

  return {
    run<T>(place: string, write: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T> {
      let started: Promise<T> | undefined;
      const queued = queueOf(place).add(
        () => {
          started = write();
          return started;
        },
        options?.signal ? { signal: options.signal } : {},
      );
      // p-queue rejects a task that is running as soon as its signal fires, but the write goes on (the platform's
      // client may be waiting out a 429 before trying again). Whoever ends a job's edits waits for this promise,
      // so it settles only when the write has: no edit can land after what comes next.
      return queued.catch((error: unknown) => {
        if (started) return started;
        throw error;
      });
    },
    waiting: (place) => places.get(place)?.size ?? 0,
  };
}
