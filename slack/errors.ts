/** What is worth logging of a Web API error: its code and Slack's error name, never the request. */
export function slackError(error: unknown): { message: string; code?: string; slack?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & { code?: string; data?: { error?: string } };
  return {
    message: e.message,
    ...(e.code ? { code: e.code } : {}),
    ...(e.data?.error ? { slack: e.data.error } : {}),
  };
}
