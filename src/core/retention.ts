import type { Core } from './core.ts';
import { styleRefsSchema } from './options.ts';

const BATCH = 100;
/** Workers that have not been seen for this long are forgotten (they only feed the queue's ETA). */
const FORGET_WORKERS_AFTER_MS = 24 * 3_600_000;

/**
 * Deletes the images of jobs that ended more than the retention ago (once their final event has been passed
 * on), and forgets long-gone workers. The job rows stay: they are the history behind usage and ETAs.
 */
export async function purgeExpired(core: Core, now: Date): Promise<{ jobs: number; images: number }> {
  const { prisma } = core.db;
  const cutoff = new Date(now.getTime() - core.config.jobs.retentionMs);
  let jobs = 0;
  let images = 0;
  for (;;) {
    const batch = await prisma.job.findMany({
      where: { finishedAt: { lte: cutoff }, imagesPurgedAt: null, eventPending: false },
      select: {
        id: true,
        contentRef: true,
        styleRefs: true,
        previewRef: true,
        resultRef: true,
        comparisonRef: true,
      },
      take: BATCH,
    });
    for (const job of batch) {
      const refs = [
        job.contentRef,
        ...styleRefsSchema.parse(JSON.parse(job.styleRefs)).map((s) => s.ref),
        job.previewRef,
        job.resultRef,
        job.comparisonRef,
      ].filter((ref): ref is string => ref !== null);
      await core.images.delete(refs);
      await prisma.job.update({
        where: { id: job.id },
        data: { imagesPurgedAt: now, previewRef: null, resultRef: null, comparisonRef: null },
      });
      images += refs.length;
    }
    jobs += batch.length;
    if (batch.length < BATCH) break;
  }
  await prisma.worker.deleteMany({
    where: { lastSeenAt: { lt: new Date(now.getTime() - FORGET_WORKERS_AFTER_MS) } },
  });
  return { jobs, images };
}

const RETENTION_EVERY_MS = 15 * 60_000;

/** Purges now and every quarter of an hour until stopped; failures are logged and retried next time. */
export function startRetention(core: Core): { stop(): void } {
  const purge = () =>
    purgeExpired(core, new Date())
      .then((purged) => purged.jobs > 0 && core.log.info(purged, 'expired images deleted'))
      .catch((error) => core.log.error({ err: error }, 'could not delete expired images'));
  void purge();
  const timer = setInterval(purge, RETENTION_EVERY_MS);
  return { stop: () => clearInterval(timer) };
}
