import { operatorBounds } from '../jobs/capacity.ts';
import type { Core } from '../jobs/core.ts';
import type { JobRow, ServerRow } from '../jobs/db.ts';
import { UserError } from '../jobs/errors.ts';
import { decodeOptions, decodeStyleRefs } from '../jobs/job-row.ts';
import { type JobView, loadServerJob } from '../jobs/jobs.ts';
import { type JobOptions, largerSize, type VariationKind } from '../jobs/options.ts';
import { plural } from '../jobs/plural.ts';
import { placeName, type ServerRef } from '../jobs/servers.ts';
import { requirePaintableShape } from '../jobs/shape.ts';
import type { LayerSetName } from '../jobs/workers.ts';
import { fitSize } from '../lib/engine.ts';
import { probeImage } from '../lib/images/index.ts';
import { STRENGTH } from '../lib/request-rules.ts';
import type { Actor } from './cancel.ts';
import { checkQuotas, effectiveLimits, QuotaError } from './quotas.ts';
import { type AcceptedJob, acceptJob, type Submission, shapeChecker, submission } from './submit.ts';

/**
 * Variations of a finished painting: the same photo and painting (the stored images, not uploaded again) with one
 * option changed. `more-style` and `less-style` move the strength by STRENGTH_STEP within 0-100, `colours` keeps
 * the photo's colours or stops keeping them, `larger` paints LARGER_FACTOR times the size (at most the server's
 * largest) starting from the painting itself, upsampled as the coarse-to-fine driver's next scale would be, so
 * only the final scale's iterations are run (engine/stylize.ts, `start`); submitJob keeps the photo and paintings
 * at that larger size, so that it paints them with their own detail. A variation is a job like any other:
 * the same quotas and usage, the same acceptance, shown in the same thread.
 */
export const STRENGTH_STEP = 25;

export interface VariationRequest {
  server: ServerRef;
  /** The finished painting to vary. */
  jobId: number;
  kind: VariationKind;
  /** Who pressed the button: the new job is theirs (their quotas), and only the requester or an admin may. */
  actor: Actor;
}

/**
 * Everything about a variation that can be decided without writing: the painting is this server's, finished and
 * the actor's (or the actor is an admin), its images are still kept, the option can change, and the quotas and
 * limits allow the new job now. Throws UserError (`gone` for images that retention deleted) or QuotaError with
 * the sentence for the member. Returns the new job's options.
 */
export async function checkVariation(core: Core, request: VariationRequest): Promise<JobOptions> {
  return (await planVariation(core, request)).options;
}

/**
 * Queues a variation (see checkVariation for the refusals), through the same acceptance as submitJob: the quotas
 * checked again under the acceptance lock, the usage recorded. The new job keeps the painting's channel and
 * thread, and records its parent, what changed and, for `larger`, the image it starts from.
 */
export async function submitVariation(core: Core, request: VariationRequest): Promise<Submission> {
  const plan = await planVariation(core, request);
  const { jobId } = await acceptJob(
    core,
    plan.server,
    request.actor.userId,
    plan.options,
    plan.limits,
    plan.job,
  );
  core.log.info({ jobId, parent: request.jobId, kind: request.kind }, 'variation queued');
  return submission(core, jobId);
}

/**
 * The variations a finished painting offers now, for its final message's buttons: a strength that can still
 * move that way, the colours either way, and `larger` while the server allows a larger size. Reads only.
 */
export async function variationChoices(core: Core, job: JobView): Promise<VariationKind[]> {
  const choices: VariationKind[] = [];
  if (job.options.strength < STRENGTH.max) choices.push('more-style');
  if (job.options.strength > STRENGTH.min) choices.push('less-style');
  choices.push('colours');
  const bounds = await operatorBounds(core, job.options.layers, { refuse: false });
  const server = await core.db.prisma.server.findFirst({
    where: { platform: job.platform, externalId: job.server },
  });
  const maxSize = effectiveLimits(server, bounds.limits).maxSize;
  const larger = largerSize(job.options.size, maxSize);
  const row = await core.db.prisma.job.findUnique({ where: { id: job.id }, select: { pixels: true } });
  const pixels = row?.pixels ?? null;
  if (
    larger !== null &&
    (pixels === null || paintableAt(job.options.size, pixels, larger, bounds.layers, maxSize))
  ) {
    choices.push('larger');
  }
  return choices;
}

/**
 * Whether a photo painted with the longer side `painted` px in `pixels` pixels can be painted at `size`: a larger
 * size has a smaller coarsest scale relative to the photo's short side (engine/shape.ts), so a long, narrow photo
 * painted at one size may not be at a larger one.
 */
function paintableAt(
  painted: number,
  pixels: number,
  size: number,
  layers: LayerSetName,
  maxSize: number,
): boolean {
  // The photo's shape, large enough to be fitted down to `size` rather than kept at the painted size.
  const scale = Math.ceil(size / painted);
  const short = Math.max(1, pixels / painted);
  try {
    requirePaintableShape(
      { width: painted * scale, height: Math.round(short * scale) },
      { kind: 'photo' },
      { size, layers, maxSize },
    );
    return true;
  } catch {
    return false;
  }
}

async function planVariation(core: Core, request: VariationRequest) {
  const { server: ref, jobId, kind, actor } = request;
  const parent = await loadServerJob(core.db, ref, jobId);
  if (!actor.isAdmin && parent.requesterId !== actor.userId) {
    throw new UserError(
      'forbidden',
      `Only the member who asked for painting #${jobId}, or an admin, can ask for a variation of it.`,
    );
  }
  if (parent.status !== 'succeeded') {
    throw new UserError('invalid-input', `Painting #${jobId} did not finish, so there is nothing to vary.`);
  }
  const { content, styles } = await keptImages(core, parent);
  const server = parent.server;
  const parentOptions = decodeOptions(parent);
  const bounds = await operatorBounds(core, parentOptions.layers);
  const limits = effectiveLimits(server, bounds.limits);
  // Nothing is the member's to choose here: limits lowered since the painting are applied rather than refused.
  const options = {
    ...parentOptions,
    size: Math.min(parentOptions.size, limits.maxSize),
    iterations: Math.min(parentOptions.iterations, limits.maxIterations),
  };
  const job: AcceptedJob = {
    channelId: parent.channelId,
    threadId: parent.threadId,
    contentRef: parent.contentRef,
    styleRefs: parent.styleRefs,
    pixels: 0,
    parentJobId: parent.id,
    variation: kind,
  };
  switch (kind) {
    case 'more-style':
    case 'less-style': {
      const more = kind === 'more-style';
      const bound = more ? STRENGTH.max : STRENGTH.min;
      if (options.strength === bound) {
        throw new UserError(
          'invalid-input',
          `Painting #${jobId} already has the ${more ? 'strongest' : 'faintest'} style (strength ${bound}).`,
        );
      }
      const step = more ? STRENGTH_STEP : -STRENGTH_STEP;
      options.strength = Math.min(STRENGTH.max, Math.max(STRENGTH.min, options.strength + step));
      break;
    }
    case 'colours':
      options.preserveColors = !options.preserveColors;
      break;
    case 'larger': {
      const size = largerSize(parentOptions.size, limits.maxSize);
      if (size === null) {
        throw new QuotaError(
          'maxSize',
          limits.maxSize,
          null,
          `Painting #${jobId} is ${parentOptions.size} px, and the largest painting this ${placeName(server.platform)} ` +
            `allows is ${limits.maxSize} px, so I can’t paint it larger.`,
        );
      }
      options.size = size;
      job.startRef = parent.resultRef;
      break;
    }
  }
  // The result's pixels, for the queue's ETA: the photo fitted to the size, as the engine paints it.
  const photo = await probeImage(content.bytes);
  const result = fitSize(photo.width, photo.height, options.size);
  job.pixels = result.width * result.height;
  // The shapes were checked at the painting's size; a larger one may not fit a long, narrow image.
  const shapes = shapeChecker(server, options, bounds);
  await shapes.check(content.bytes, { kind: 'photo' });
  for (const { ref, image } of styles) {
    await shapes.check(image.bytes, ref.preset ? { kind: 'preset', label: ref.name } : { kind: 'style' });
  }
  await checkQuotas(core.db.prisma, server, actor.userId, options, bounds.limits, new Date());
  return { server, options, limits: bounds.limits, job };
}

/**
 * The painting's photo and paintings (each with its styleRefs entry), after checking that its images are all still kept
 * (photo, paintings and result); a UserError `gone` that says so plainly where retention has deleted them.
 */
async function keptImages(core: Core, parent: JobRow & { server: ServerRow }) {
  const gone = () => {
    const hours = Math.round(core.config.jobs.retentionMs / 3_600_000);
    return new UserError(
      'gone',
      `The photo and painting of #${parent.id} are no longer kept (images are deleted ${plural(hours, 'hour')} ` +
        'after a painting ends), so I can’t make a variation of it. Ask for a new painting with /stylize.',
    );
  };
  if (parent.imagesPurgedAt !== null || parent.resultRef === null) throw gone();
  const refs = decodeStyleRefs(parent);
  const [result, content, ...images] = await Promise.all(
    [parent.resultRef, parent.contentRef, ...refs.map((s) => s.ref)].map((r) => core.images.get(r)),
  );
  if (!result || !content || images.some((image) => !image)) throw gone();
  return { content, styles: refs.map((ref, i) => ({ ref, image: images[i]! })) };
}
