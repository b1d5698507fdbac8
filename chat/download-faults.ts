import { DownloadError } from '../lib/download.ts';
import type { Logger } from '../lib/log.ts';
import { downloadFaults } from '../lib/metrics.ts';
import type { Platform } from '../rules/index.ts';

/** The metric's `reason` for each code the download helper gives an operator's problem. */
const REASONS = { 'content-type': 'web_page', host: 'redirected', unavailable: 'refused' } as const;

/**
 * Reports, for the operator, a member's file whose download brought back something other than the file (a web
 * page such as a sign-in page, a redirect off the file hosts, a 401/403): one log line with the host that
 * answered, the status, and what happened with its likely cause (never the file's URL: its path names the
 * member's file, its query can hold a signature), and the `stylize_download_faults_total` metric. Returns whether `error` was one (the caller logs other faults itself).
 */
export function reportDownloadFault(
  log: Logger,
  platform: Platform,
  error: unknown,
  fields: Record<string, unknown> = {},
): boolean {
  if (!(error instanceof DownloadError) || error.audience !== 'operator') return false;
  const reason = REASONS[error.code as keyof typeof REASONS] ?? 'refused';
  downloadFaults.inc({ platform, reason });
  log.error(
    { ...fields, platform, reason, host: error.host, status: error.status, cause: error.message },
    `${platform}: a member's file came back as something other than the file`,
  );
  return true;
}
