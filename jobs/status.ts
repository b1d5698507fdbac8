import type { Core } from './core.ts';
import { type JobView, loadServerJob, toJobView } from './jobs.ts';
import { standing } from './queue.ts';
import type { ServerRef } from './servers.ts';

export interface JobStatusReport {
  job: JobView;
  /** Place in the queue (1: next to start) while the job waits; null once it has started. */
  position: number | null;
  /** Expected milliseconds until it is done, while it waits or runs. */
  etaMs: number | null;
}

/** Where a job of this server stands, for "/stylize status" and the adapters' queue messages. */
export async function jobStatus(core: Core, server: ServerRef, jobId: number): Promise<JobStatusReport> {
  const row = await loadServerJob(core.db, server, jobId);
  const now = new Date();
  return {
    job: toJobView(row),
    ...(await standing(core.db.prisma, jobId, { staleAfterMs: core.config.jobs.staleAfterMs, now })),
  };
}
