import type { Core } from '../jobs/core.ts';
import { type JobView, toJobView } from '../jobs/jobs.ts';
import { findServer, type ServerRef } from '../jobs/servers.ts';

/** Paintings listed by "/stylize history" unless the caller asks for another number. */
export const HISTORY_LENGTH = 10;
/** The most one history lists: a chat message has room for about that many lines with their links. */
const MAX_HISTORY = 25;

/** One of a member's paintings, as their history lists it. */
export interface HistoryEntry {
  /** The job: its status, styles, times, and where the adapter shows it (channelId, threadId, chatRefs). */
  job: JobView;
  /**
   * The bot still keeps the job's images: true until retention deletes them (imagesPurgedAt), after which the
   * job's thread still shows what was posted there, but nothing can be made again from them.
   */
  imagesKept: boolean;
  /** The painting itself is still kept: the job succeeded and its result has not been deleted. */
  resultKept: boolean;
}

/**
 * The member's latest paintings in this server (Discord guild or Slack workspace), newest first: at most
 * `limit` (1-25, default {@link HISTORY_LENGTH}), whatever their status. Reads only: a server never seen has
 * no history, and gets an empty list without being recorded.
 */
export async function memberHistory(
  core: Pick<Core, 'db'>,
  server: ServerRef,
  requesterId: string,
  limit = HISTORY_LENGTH,
): Promise<HistoryEntry[]> {
  const row = await findServer(core.db.prisma, server);
  if (!row) return [];
  const jobs = await core.db.prisma.job.findMany({
    where: { serverId: row.id, requesterId },
    // Ids break ties between jobs created in the same millisecond, in the order they were accepted.
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: Math.min(MAX_HISTORY, Math.max(1, Math.floor(limit))),
    include: { server: true },
  });
  return jobs.map((job) => ({
    job: toJobView(job),
    imagesKept: job.imagesPurgedAt === null,
    resultKept: job.status === 'succeeded' && job.resultRef !== null && job.imagesPurgedAt === null,
  }));
}
