import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { loadServerJob, requestCancel } from '../jobs/jobs.ts';
import type { ServerRef } from '../jobs/servers.ts';

/** Who asks: the chat adapter says whether the platform counts them as an admin of the server. */
export interface Actor {
  userId: string;
  isAdmin: boolean;
}

/**
 * Cancels a job for its requester or one of the server's admins. `cancelled`: it had not started and is gone;
 * `stopping`: its worker stops within an iteration of its next heartbeat, and `cancelled` follows as an event.
 * Either way the job's usage is refunded.
 */
export async function cancelJob(
  core: Core,
  server: ServerRef,
  jobId: number,
  actor: Actor,
): Promise<'cancelled' | 'stopping'> {
  const job = await loadServerJob(core.db, server, jobId);
  if (!actor.isAdmin && job.requesterId !== actor.userId) {
    throw new UserError('forbidden', 'Only the member who asked for a painting, or an admin, can cancel it.');
  }
  const result = await requestCancel(core.db, jobId, actor.userId, new Date());
  if (result === 'already-ended') {
    throw new UserError('not-cancellable', `Job ${jobId} has already ended.`);
  }
  core.log.info({ jobId, server: server.id, platform: server.platform, by: actor.userId, result }, 'cancel');
  return result;
}
