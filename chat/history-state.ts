import type { HistoryEntry } from '../rules/index.ts';

/**
 * Where one of a member's paintings stands, in the words of their history on either platform ("done <when>
 * (no longer kept)", "deleted <when>"); `time` writes a moment as the platform shows it to the member.
 */
export function historyState({ job, imagesKept }: HistoryEntry, time: (moment: Date) => string): string {
  if (job.deletedAt) return `deleted ${time(job.deletedAt)}`;
  const ended = job.finishedAt ? ` ${time(job.finishedAt)}` : '';
  return {
    queued: 'waiting in the queue',
    running: 'being painted',
    succeeded: `done${ended}${imagesKept ? '' : ' (no longer kept)'}`,
    failed: `failed${ended}`,
    cancelled: `cancelled${ended}`,
  }[job.status];
}
