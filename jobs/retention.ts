import type { Core } from './core.ts';
import { decodeStyleRefs } from './job-row.ts';

const BATCH = 100;

/** The columns of a job that refer to images. */
const REF_FIELDS = {
  contentRef: true,
  styleRefs: true,
  previewRef: true,
  resultRef: true,
  comparisonRef: true,
  startRef: true,
  timelapseRef: true,
} as const;

/** Every image a job refers to. */
function imageRefs(job: {
  contentRef: string;
  styleRefs: string;
  previewRef: string | null;
  resultRef: string | null;
  comparisonRef: string | null;
  startRef: string | null;
  timelapseRef: string | null;
}): string[] {
  return [
    job.contentRef,
    ...decodeStyleRefs(job).map((s) => s.ref),
    job.previewRef,
    job.resultRef,
    job.comparisonRef,
    job.startRef,
    job.timelapseRef,
  ].filter((ref): ref is string => ref !== null);
}
/** Pages of image references read and deleted at a time by the orphan sweep. */
const REF_PAGE = 1_000;
/**
 * An image nothing refers to is deleted once it is this old (or twice STALE_AFTER_MS, if that is longer). The
 * writers (submitJob, the worker) store images just before the row that refers to them, and retry that row
 * write for at most STALE_AFTER_MS, so the sweep never catches an image whose row is still coming.
 */
export const ORPHAN_GRACE_MS = 3_600_000;
/** Workers that have not been seen for this long are forgotten (they only feed the queue's ETA). */
const FORGET_WORKERS_AFTER_MS = 24 * 3_600_000;

/**
 * Deletes the images of jobs that ended more than the retention ago (once their final state has been posted),
 * then the images that nothing refers to (see deleteOrphans), and forgets long-gone workers. The job rows stay:
 * they are the history behind usage and ETAs. `images` counts both kinds of deleted images.
 */
export async function purgeExpired(core: Core, now: Date): Promise<{ jobs: number; images: number }> {
  const { prisma } = core.db;
  const cutoff = new Date(now.getTime() - core.config.jobs.retentionMs);
  let jobs = 0;
  let images = 0;
  for (;;) {
    const batch = await prisma.job.findMany({
      where: { finishedAt: { lte: cutoff }, imagesPurgedAt: null, eventPending: false, deliveringAt: null },
      select: { id: true, ...REF_FIELDS },
      take: BATCH,
    });
    for (const job of batch) images += await purgeJobImages(core, job, now);
    jobs += batch.length;
    if (batch.length < BATCH) break;
  }
  images += await deleteOrphans(core, now);
  await prisma.worker.deleteMany({
    where: { lastSeenAt: { lt: new Date(now.getTime() - FORGET_WORKERS_AFTER_MS) } },
  });
  return { jobs, images };
}

/**
 * Deletes one job's images and marks them purged (imagesPurgedAt: `now`, with `also` written in the same
 * update), keeping those another job still needs: variations share their parent's photo and paintings, and a
 * larger one starts from its parent's result, so what another job of the same photo whose images are kept refers
 * to stays. Returns how many images it deleted.
 */
export async function purgeJobImages(
  core: Core,
  job: { id: number } & Parameters<typeof imageRefs>[0],
  now: Date,
  also: { deletedAt?: Date; deletedBy?: string } = {},
): Promise<number> {
  const { prisma } = core.db;
  const sharing = await prisma.job.findMany({
    where: { id: { not: job.id }, imagesPurgedAt: null, contentRef: job.contentRef },
    select: REF_FIELDS,
  });
  const kept = new Set(sharing.flatMap(imageRefs));
  const deleted = imageRefs(job).filter((ref) => !kept.has(ref));
  await core.images.delete(deleted);
  await prisma.job.update({
    where: { id: job.id },
    data: {
      ...also,
      imagesPurgedAt: now,
      previewRef: null,
      resultRef: null,
      comparisonRef: null,
      timelapseRef: null,
    },
  });
  return deleted.length;
}

/**
 * Deletes the images past the grace period (ORPHAN_GRACE_MS) that no job whose images are kept and no preset
 * refers to: those a process stored and then died before writing the row that refers to them (or after a row
 * stopped referring to them, before deleting them). Reading the candidates before the references keeps a reference
 * written meanwhile from being missed. Returns how many it deleted.
 */
async function deleteOrphans(core: Core, now: Date): Promise<number> {
  const { prisma } = core.db;
  const grace = Math.max(ORPHAN_GRACE_MS, 2 * core.config.jobs.staleAfterMs);
  const before = new Date(now.getTime() - grace);
  const candidates: string[] = [];
  for (;;) {
    const page = await core.images.storedBefore(before, { after: candidates.at(-1), limit: REF_PAGE });
    candidates.push(...page);
    if (page.length < REF_PAGE) break;
  }
  if (candidates.length === 0) return 0;
  const [jobs, presets] = await Promise.all([
    prisma.job.findMany({ where: { imagesPurgedAt: null }, select: REF_FIELDS }),
    prisma.preset.findMany({ select: { imageRef: true } }),
  ]);
  const referenced = new Set<string>([...presets.map((p) => p.imageRef), ...jobs.flatMap(imageRefs)]);
  const orphans = candidates.filter((ref) => !referenced.has(ref));
  for (let i = 0; i < orphans.length; i += REF_PAGE) await core.images.delete(orphans.slice(i, i + REF_PAGE));
  if (orphans.length > 0) core.log.warn({ images: orphans.length }, 'deleted images that nothing refers to');
  return orphans.length;
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
