/**
 * An error as the log sees it and as the member does. discord.js's errors carry the request (uploaded files, and
 * for interaction webhooks a URL with the interaction token), so only chosen fields are logged, never the
 * object; the member gets the error's own words when it is theirs to act on, a general sentence otherwise.
 */
import { memberReply } from '../lib/member-error.ts';
import { timestamp } from './message-spec.ts';

/** What of an error goes into a log line. */
export function safeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 500) };
  const e = error as Error & { code?: unknown; status?: unknown; method?: unknown };
  return {
    type: e.name,
    message: e.message.slice(0, 500),
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(typeof e.status === 'number' ? { status: e.status } : {}),
    ...(typeof e.method === 'string' ? { method: e.method } : {}),
    ...(e.stack && !('requestBody' in e) ? { stack: e.stack } : {}),
  };
}

/**
 * The member's message for any error: a member-facing error's own words (a quota's with its reset time as a
 * Discord timestamp), the general sentence for an operator's problem or an internal fault.
 */
export function errorMessage(error: unknown): string {
  const reply = memberReply(error);
  const { resetsAt, max } = reply.context;
  if (!(resetsAt instanceof Date)) return reply.text;
  return `${reply.text} The limit (${String(max)}) resets ${timestamp(resetsAt.getTime())}.`;
}
