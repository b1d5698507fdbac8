/**
 * What of an error goes into a log line. discord.js's errors carry the request (uploaded files, and for
 * interaction webhooks a URL with the interaction token), so only these fields are logged, never the object.
 */
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
