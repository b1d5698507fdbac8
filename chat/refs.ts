import { z } from 'zod';
import type { Platform } from '../rules/index.ts';

/**
 * Where a chat adapter shows a job (its message ids), stored with the job (setChatRefs, the job row's chatRefs
 * column) so that a restarted bot, or another process (Discord's shard manager), goes on with the same messages.
 * The core keeps it opaque; this module is the one format, written by both adapters:
 *
 *   {"v":2,"platform":"discord","channelId":"…","replyId":"…",…}   {"v":2,"platform":"slack","progressTs":"…"}
 *
 * Rows written before this version are still read, as deployed databases hold them: Discord's `{"v":1,…}` with
 * the same fields, and Slack's unversioned `{"progressTs":…,"previews":…,"done":…}`.
 */
const discordFields = z.object({
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

const slackFields = z.object({
  /** The progress message (its ts) in the job's thread. */
  progressTs: z.string(),
  /** Previews already posted in the thread. */
  previews: z.number().int().nonnegative().optional(),
  /** The job's end has been posted (the event is not acted on twice). */
  done: z.boolean().optional(),
});

export type DiscordRefs = z.infer<typeof discordFields>;
export type SlackRefs = z.infer<typeof slackFields>;
export interface RefsOf {
  discord: DiscordRefs;
  slack: SlackRefs;
}

const VERSION = 2;
const fields = { discord: discordFields, slack: slackFields } satisfies Record<Platform, z.ZodType>;

/** The stored forms each platform's rows may hold, the current one first. */
const readable = {
  discord: [
    discordFields.extend({ v: z.literal(VERSION), platform: z.literal('discord') }),
    discordFields.extend({ v: z.literal(1) }),
  ],
  slack: [
    slackFields.extend({ v: z.literal(VERSION), platform: z.literal('slack') }),
    slackFields.extend({ v: z.undefined().optional(), platform: z.undefined().optional() }),
  ],
} satisfies Record<Platform, z.ZodType[]>;

/** The column's text for `refs` (throws a ZodError where they are not the platform's fields). */
export function encodeRefs<P extends Platform>(platform: P, refs: RefsOf[P]): string {
  return JSON.stringify({ v: VERSION, platform, ...fields[platform].parse(refs) });
}

/**
 * The refs stored with a job, in any form above; undefined when there are none, or they are not this
 * platform's, or not readable.
 */
export function decodeRefs<P extends Platform>(platform: P, stored: string | null): RefsOf[P] | undefined {
  if (!stored) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (!readable[platform].some((form) => form.safeParse(raw).success)) return undefined;
  return fields[platform].parse(raw) as RefsOf[P];
}
