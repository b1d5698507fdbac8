import { z } from 'zod';

/**
 * Where the Discord adapter shows a job, stored with the job (setChatRefs) so that a restarted bot, or another
 * process (the shard manager), goes on editing the same messages.
 */
const chatRefsSchema = z.object({
  v: z.literal(1),
  /** The channel of the command's reply, and the reply (the interaction's original message). */
  channelId: z.string(),
  replyId: z.string(),
  /** The thread started on the reply; null when it could not be created (progress is then in the reply). */
  threadId: z.string().nullable(),
  /** The message edited with progress: in the thread, or the reply itself. */
  progressChannelId: z.string(),
  progressId: z.string(),
  /** Bytes one message may upload in this guild (the interaction's attachment_size_limit). */
  uploadLimit: z.number().int().positive(),
  /** The message that shows the finished painting (in the thread, or the reply itself), once it is posted. */
  result: z.object({ channelId: z.string(), messageId: z.string() }).optional(),
});
export type ChatRefs = z.infer<typeof chatRefsSchema>;

export function encodeRefs(refs: ChatRefs): string {
  return JSON.stringify(chatRefsSchema.parse(refs));
}

/** The refs stored with a job, or undefined when there are none (or they are not the Discord adapter's). */
export function decodeRefs(stored: string | null): ChatRefs | undefined {
  if (!stored) return undefined;
  try {
    const parsed = chatRefsSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Jobs this process is setting up (reply edited, thread started, refs stored). The worker can start, and even
 * finish, a small job before that is done; its events wait here for the refs instead of being dropped.
 */
export class Setups {
  readonly #pending = new Map<number, { promise: Promise<ChatRefs | undefined>; resolve: Resolve }>();

  /** Marks a job as being set up in this process. */
  begin(jobId: number): void {
    this.#entry(jobId);
  }

  /** The set-up is done (undefined: it failed, the job has nowhere to be shown). */
  finish(jobId: number, refs: ChatRefs | undefined): void {
    this.#entry(jobId).resolve(refs);
    // Later events read the refs from the job; keep the entry a little for those already waiting.
    setTimeout(() => this.#pending.delete(jobId), 60_000).unref();
  }

  /** The set-up in progress or just done in this process, if any. */
  get(jobId: number): Promise<ChatRefs | undefined> | undefined {
    return this.#pending.get(jobId)?.promise;
  }

  #entry(jobId: number) {
    let entry = this.#pending.get(jobId);
    if (!entry) {
      let resolve!: Resolve;
      const promise = new Promise<ChatRefs | undefined>((r) => {
        resolve = r;
      });
      entry = { promise, resolve };
      this.#pending.set(jobId, entry);
    }
    return entry;
  }
}

type Resolve = (refs: ChatRefs | undefined) => void;

export function messageLink(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}

/** A link that opens a channel or a thread. */
export function channelLink(guildId: string, channelId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}`;
}
