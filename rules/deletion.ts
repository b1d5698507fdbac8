import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { type JobView, loadServerJob, toJobView } from '../jobs/jobs.ts';
import { purgeJobImages } from '../jobs/retention.ts';
import type { ServerRef } from '../jobs/servers.ts';
import type { Actor } from './cancel.ts';

const ENDED = ['succeeded', 'failed', 'cancelled'];

/**
 * Deletes a finished painting for its requester or one of the server's admins: the job's images go from the
 * image store (those a variation of the same photo still needs stay, as with retention: purgeJobImages) and the
 * job is marked deleted, by whom; the row stays, so the member's history shows it as deleted and the usage it
 * counted is not given back. Returns the job as it now is (its chatRefs say where the adapter showed it, for it
 * to remove its messages) and whether this call deleted it (false: it was deleted already, by anyone).
 *
 * Throws UserError: `not-found` (no such job in this server), `forbidden` (someone else's, not an admin),
 * `not-cancellable` (still queued or running: it can be cancelled, not deleted), `gone` (its end is still being
 * posted; a moment later it can be deleted).
 */
export async function deletePainting(
  core: Core,
  server: ServerRef,
  jobId: number,
  actor: Actor,
): Promise<{ job: JobView; deleted: boolean }> {
  const row = await loadServerJob(core.db, server, jobId);
  if (!actor.isAdmin && row.requesterId !== actor.userId) {
    throw new UserError('forbidden', 'Only the member who asked for a painting, or an admin, can delete it.');
  }
  if (row.deletedAt) return { job: toJobView(row), deleted: false };
  if (!ENDED.includes(row.status)) {
    throw new UserError(
      'not-cancellable',
      `Painting ${jobId} is not finished yet: cancel it instead, or delete it once it is done.`,
    );
  }
  const now = new Date();
  // The mark comes first and only once (compare-and-set), so two presses delete once; a painting whose end is
  // still being posted is left to finish first, or its images would be posted after they were deleted.
  const claimed = await core.db.prisma.job.updateMany({
    where: { id: jobId, deletedAt: null, status: { in: ENDED }, eventPending: false, deliveringAt: null },
    data: { deletedAt: now, deletedBy: actor.userId },
  });
  if (claimed.count === 0) {
    const again = await loadServerJob(core.db, server, jobId);
    if (again.deletedAt) return { job: toJobView(again), deleted: false };
    throw new UserError('gone', `Painting ${jobId} is still being posted; try again in a moment.`);
  }
  // Retention purges what a process stopped here leaves: the job ended and its images are not marked purged.
  const images = await purgeJobImages(core, row, now);
  core.log.info(
    { jobId, server: server.id, platform: server.platform, by: actor.userId, images },
    'painting deleted',
  );
  const deleted = await loadServerJob(core.db, server, jobId);
  return { job: toJobView(deleted), deleted: true };
}
