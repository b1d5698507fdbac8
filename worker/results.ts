import type { RgbImage, TimelapseFrame } from '../engine/index.ts';
import { type Core, completeJob, isTransient, retryTransient, type StoredImage } from '../jobs/worker-api.ts';
import { comparison, encodeAnimation, encodeImage } from '../lib/images/index.ts';
import type { Logger } from '../lib/log.ts';
import { type ActiveJob, RETRY_MAX_MS, RETRY_MIN_MS } from './context.ts';
import { encodeToFit } from './paint.ts';

/** A finished painting's images, encoded for the image store. */
export interface PaintingImages {
  result: StoredImage;
  /** Photo, styles and result side by side. */
  comparison: StoredImage;
  /** Absent where the painting kept none, or it could not be made within the store's limit. */
  timelapse: StoredImage | undefined;
}

/** Where storing a painting ended: stored; `lost` to another worker; `abandoned` to the stale sweep. */
export type StoreOutcome = 'stored' | 'lost' | 'abandoned';

/**
 * Encodes a finished painting's images, each within `maxImageBytes` (encodeToFit picks the format): the result,
 * the comparison of `inputs` beside it, and the timelapse where there is one.
 */
export async function encodeResults(
  maxImageBytes: number,
  inputs: { content: RgbImage; styles: readonly { image: RgbImage; name: string; weight: number }[] },
  painted: { image: RgbImage; timelapse?: readonly TimelapseFrame[] | undefined },
  jobLog: Logger,
): Promise<PaintingImages> {
  const result = await encodeToFit((format) => encodeImage(painted.image, format), maxImageBytes);
  const side = await encodeToFit(
    (format) => comparison(inputs.content, inputs.styles, painted.image, format),
    maxImageBytes,
  );
  return {
    result: { mime: `image/${result.format}`, bytes: result.bytes },
    comparison: { mime: `image/${side.format}`, bytes: side.bytes },
    timelapse: await timelapseImage(painted.timelapse, maxImageBytes, jobLog),
  };
}

/**
 * The timelapse as an animated WebP: full colour, and about a ninth of a GIF's encoding time at its lowest
 * effort (an adapter whose platform previews only GIF converts it when it is asked for). Undefined, logged,
 * where it cannot be made or is over the store's limit: the painting is delivered without it.
 */
async function timelapseImage(
  frames: readonly TimelapseFrame[] | undefined,
  maxImageBytes: number,
  jobLog: Logger,
): Promise<StoredImage | undefined> {
  if (!frames || frames.length === 0) return undefined;
  try {
    const bytes = await encodeAnimation(frames, 'webp');
    if (bytes.length <= maxImageBytes) return { mime: 'image/webp', bytes };
    jobLog.warn({ bytes: bytes.length }, 'the timelapse is over the image store limit; left out');
  } catch (error) {
    jobLog.warn({ err: error }, 'could not make the timelapse; left out');
  }
  return undefined;
}

/**
 * Stores a finished painting: its images (the timelapse where there is one), then the job's completion, each
 * write retried through transient database errors for up to STALE_AFTER_MS (heartbeats go on meanwhile, so the
 * job stays this worker's). Returns `lost` when another worker took the job over, `abandoned` when the database
 * stayed unusable that long: the job is then left to the stale sweep, which gives it to another worker, rather
 * than failed. A cancel or shutdown meanwhile stops the retries (the error reaches the job's end, job-end.ts).
 * The images of a painting that is not stored are deleted.
 */
export async function storeResults(
  core: Pick<Core, 'db' | 'images' | 'config'>,
  job: ActiveJob,
  jobLog: Logger,
  stored: PaintingImages,
  final: { iteration: number; converged: boolean },
): Promise<StoreOutcome> {
  const { db, images } = core;
  const refs: { resultRef?: string; comparisonRef?: string; timelapseRef?: string } = {};
  const policy = {
    minMs: RETRY_MIN_MS,
    maxMs: RETRY_MAX_MS,
    deadline: Date.now() + core.config.jobs.staleAfterMs,
    signal: job.controller.signal,
    onRetry: (error: unknown, waitMs: number) =>
      jobLog.warn({ err: error, waitMs }, 'could not store the painting; retrying'),
  };
  const discard = () =>
    images
      .delete(
        [refs.resultRef, refs.comparisonRef, refs.timelapseRef].filter((r): r is string => r !== undefined),
      )
      .catch((error) => jobLog.warn({ err: error }, 'could not delete the unused images'));
  try {
    const completed = await retryTransient(async () => {
      refs.resultRef ??= await images.put(stored.result);
      refs.comparisonRef ??= await images.put(stored.comparison);
      if (stored.timelapse) refs.timelapseRef ??= await images.put(stored.timelapse);
      return completeJob(
        db,
        images,
        job.lease,
        { resultRef: refs.resultRef, comparisonRef: refs.comparisonRef, timelapseRef: refs.timelapseRef },
        new Date(),
        final,
      );
    }, policy);
    if (!completed) await discard();
    return completed ? 'stored' : 'lost';
  } catch (error) {
    await discard();
    if (job.controller.signal.aborted || !isTransient(error)) throw error;
    jobLog.error(
      { err: error },
      'could not store the painting for STALE_AFTER_MS; leaving the job to be taken back',
    );
    return 'abandoned';
  }
}
