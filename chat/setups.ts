/**
 * A job's events can arrive before the adapter has shown the job and stored its message ids (chat/refs.ts): the
 * worker can start, even finish, a small job while its reply, thread and progress message are still being posted.
 * Those events wait for the ids here instead of being dropped or showing the job twice.
 *
 * The flow that shows a job marks its set-up under a key (Discord: the job id, once submitted; Slack: the request
 * message's ts, before it submits, so no event comes first) and finishes it with the ids, or with undefined when
 * it gave up. Discord's set-up may also run in another process (a shard, while the shard manager delivers the
 * events), or begin only after the job's first event: for a job just submitted, its events also read the job
 * again until the ids appear.
 */
export class Setups<Key, Refs> {
  readonly #pending = new Map<Key, Promise<Refs | undefined>>();

  /**
   * Marks a set-up under way in this process; a new one under the same key (a variation in its painting's
   * thread) takes the place of the one before. `finish` it with the refs (undefined: it failed, the job has no
   * messages of its own).
   */
  begin(key: Key): { finish(refs: Refs | undefined): void } {
    let resolve!: (refs: Refs | undefined) => void;
    const promise = new Promise<Refs | undefined>((r) => {
      resolve = r;
    });
    this.#pending.set(key, promise);
    return {
      finish: (refs) => {
        resolve(refs);
        // Later events read the refs from the job; the entry stays a little for those already on their way.
        setTimeout(() => {
          if (this.#pending.get(key) === promise) this.#pending.delete(key);
        }, KEEP_FINISHED_MS).unref();
      },
    };
  }

  /**
   * A job's refs: `stored` (decoded from the job as the event saw it), else its set-up in this process under
   * `key`, else, when `reread` is given and the job was submitted in the last {@link RECENT_MS}, the first of
   * its set-up beginning here or `reread` (the job read again) to give them, checked every {@link POLL_MS} for
   * up to {@link WAIT_MS}. Undefined when none come, or once `signal` aborts.
   */
  async refsOf(
    job: { createdAt: Date },
    source: {
      stored: Refs | undefined;
      key: Key | null;
      reread?: (() => Promise<Refs | undefined>) | undefined;
      signal?: AbortSignal | undefined;
    },
  ): Promise<Refs | undefined> {
    if (source.stored) return source.stored;
    const local = source.key === null ? undefined : this.#pending.get(source.key);
    if (local) return local;
    const { reread, key } = source;
    if (!reread || Date.now() - job.createdAt.getTime() > RECENT_MS) return undefined;
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline && !source.signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const begun = key === null ? undefined : this.#pending.get(key);
      if (begun) return begun;
      const refs = await reread();
      if (refs) return refs;
    }
    return undefined;
  }
}

/** Jobs older than this with no refs are not waited for (a restart lost their set-up). */
const RECENT_MS = 2 * 60_000;
/** How long a just-submitted job's events wait for a set-up elsewhere, and how often they look. */
const WAIT_MS = 20_000;
const POLL_MS = 200;
const KEEP_FINISHED_MS = 60_000;
