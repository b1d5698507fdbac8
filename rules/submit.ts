import { z } from 'zod';
import { type OperatorBounds, operatorBounds } from '../jobs/capacity.ts';
import type { Core } from '../jobs/core.ts';
import { type ServerRow, TX_OPTIONS } from '../jobs/db.ts';
import { UserError } from '../jobs/errors.ts';
import { encodeOptions, encodeStyleRefs } from '../jobs/job-row.ts';
import { type JobView, loadJob, toJobView } from '../jobs/jobs.ts';
import {
  type CheckedOptions,
  type JobOptions,
  jobOptionsSchema,
  largerSize,
  type StyleRefs,
} from '../jobs/options.ts';
import { standing } from '../jobs/queue.ts';
import { ensureServer, PLATFORMS, type ServerRef } from '../jobs/servers.ts';
import { type ImageSubject, requirePaintableShape } from '../jobs/shape.ts';
import { recordUsage } from '../jobs/usage.ts';
import { fitSize } from '../lib/engine.ts';
import { decodeImage, encodeImage, probeImage } from '../lib/images/index.ts';
import type { Limits } from '../lib/request-rules.ts';
import { loadPreset, MAX_STYLE_SIDE, recommendedStrength } from '../presets/index.ts';
import { checkQuotas, effectiveLimits } from './quotas.ts';

/** What a chat adapter hands the core for one /stylize: the photo and paintings as bytes or preset names. */
export interface SubmitRequest {
  server: ServerRef;
  channelId: string;
  threadId?: string | null | undefined;
  requesterId: string;
  content: Buffer;
  /** An uploaded painting (with a name for the labels) or the name of a preset; several are blended. */
  styles: ({ image: Buffer; name: string; weight?: number } | { preset: string; weight?: number })[];
  options?: z.input<typeof jobOptionsSchema> | undefined;
}

export interface Submission {
  job: JobView;
  /** 1: next to start; null if a worker took the job before this returned. */
  position: number | null;
  etaMs: number | null;
}

const MAX_STYLES = 3;
const id = z.string().min(1).max(64);
const requestSchema = z.object({
  server: z.object({ platform: z.enum(PLATFORMS), id }),
  channelId: id,
  threadId: id.nullish(),
  requesterId: id,
  content: z.instanceof(Buffer),
  styles: z
    .array(
      z.union([
        z.object({
          image: z.instanceof(Buffer),
          name: z.string().min(1).max(80),
          weight: z.number().positive().optional(),
        }),
        z.object({ preset: z.string().min(1).max(80), weight: z.number().positive().optional() }),
      ]),
    )
    .min(1, 'Give one painting to paint in the style of.')
    .max(MAX_STYLES, `At most ${MAX_STYLES} paintings can be blended.`),
  options: jobOptionsSchema.prefault({}),
});

/** Any constant: it names the acceptance lock among the PostgreSQL advisory locks (migrate.ts has another). */
const ACCEPT_LOCK_KEY = 7_424_243;

/**
 * Accepts a painting request: what the live workers can paint and the limits first (a refusal costs nothing; the
 * adapters check them, with checkRequest, before they even download the images), then the images' shapes from
 * their headers, then the images are normalised (decoded safely, resized to what the job needs, stored as PNG),
 * then the job (with its layers and size, which the claim matches against each worker) and its usage are
 * written together with the limits checked again, since another request may have been accepted meanwhile.
 * Throws UserError, QuotaError or ImageError with a message for the member, or the operator's error when
 * painting is unavailable; nothing is left behind when it throws (and if the process dies before the job is
 * written, retention deletes the images nothing refers to).
 *
 * The job's place in the queue is fixed when it is written: acceptances are serialised (one database lock for
 * all servers), so job ids follow the order in which requests were accepted, and the queue runs in id order.
 * The position told to the member is read after that, so it counts exactly the jobs accepted before.
 */
export async function submitJob(core: Core, request: SubmitRequest): Promise<Submission> {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) throw new UserError('invalid-input', parsed.error.issues[0]!.message);
  const req = parsed.data;
  // Unless the member chose one, catalogue paintings are applied at the strength that suits them.
  if (request.options?.strength === undefined) {
    req.options.strength = (await recommendedStrength(req.styles)) ?? core.config.jobDefaults.strength;
  }
  const { prisma } = core.db;
  const server = await ensureServer(prisma, req.server);
  const bounds = await operatorBounds(core, req.options.layers);
  await checkQuotas(prisma, server, req.requesterId, req.options, bounds.limits, new Date());
  const shapes = shapeChecker(server, req.options, bounds);
  await shapes.members(req);

  const stored: string[] = [];
  const store = async (image: Parameters<typeof encodeImage>[0]) => {
    const ref = await core.images.put({ mime: 'image/png', bytes: await encodeImage(image, 'png') });
    stored.push(ref);
    return ref;
  };
  let accepted: { jobId: number; at: Date };
  try {
    // Kept at the size a Larger variation of this painting would have (variations.ts), within the server's
    // largest: that painting then has the photo's and the paintings' own detail rather than these upsampled.
    const { maxSize } = effectiveLimits(server, bounds.limits);
    const keptSide = largerSize(req.options.size, maxSize) ?? req.options.size;
    const content = await decodeImage(req.content, { maxSide: keptSide });
    const contentRef = await store(content);
    // The result's pixels (the photo fitted to the size, as the engine paints it): the queue's ETA counts them.
    const result = fitSize(content.width, content.height, req.options.size);
    const styleSide = Math.min(MAX_STYLE_SIDE, keptSide);
    const styleRefs: StyleRefs = [];
    for (const style of req.styles) {
      // A preset is named by its label ("The Starry Night — Vincent van Gogh, 1889") wherever the job shows it.
      const { label: name, bytes } =
        'preset' in style
          ? await loadPreset(core, server, style.preset)
          : { label: style.name, bytes: style.image };
      if ('preset' in style) await shapes.check(bytes, { kind: 'preset', label: name });
      const ref = await store(await decodeImage(bytes, { maxSide: styleSide }));
      styleRefs.push({
        ref,
        name,
        weight: style.weight ?? 1,
        ...('preset' in style ? { preset: true } : {}),
      });
    }

    accepted = await acceptJob(core, server, req.requesterId, req.options, bounds.limits, {
      channelId: req.channelId,
      threadId: req.threadId ?? null,
      contentRef,
      styleRefs: encodeStyleRefs(styleRefs),
      pixels: result.width * result.height,
    });
  } catch (error) {
    await core.images.delete(stored);
    throw error;
  }

  return submission(core, accepted.jobId);
}

/** Where an accepted job is stored from and shown: everything of its row that is not its options. */
export interface AcceptedJob {
  channelId: string;
  threadId: string | null;
  contentRef: string;
  /** The `styleRefs` column, as encodeStyleRefs writes it. */
  styleRefs: string;
  pixels: number;
  /** A variation's: the job it varies, what it changed, the image it starts from (variations.ts). */
  parentJobId?: number;
  variation?: string;
  startRef?: string | null;
}

/**
 * Writes an accepted job and its usage, with the limits checked again at that moment (QuotaError), under the one
 * acceptance lock for all servers: job ids follow the order in which jobs were accepted, and the queue runs in id
 * order. The images `job` refers to are stored before; the caller deletes those it stored when this throws.
 */
export async function acceptJob(
  core: Core,
  server: ServerRow,
  requesterId: string,
  options: JobOptions,
  limits: Limits,
  job: AcceptedJob,
): Promise<{ jobId: number; at: Date }> {
  return core.db.prisma.$transaction(async (tx) => {
    if (core.db.provider === 'postgresql') {
      await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock($1)', ACCEPT_LOCK_KEY);
    }
    // On SQLite this first write takes the database's write lock, which serialises acceptances there; on
    // PostgreSQL it locks the server row, which the claim's running-limit check also takes.
    const at = new Date();
    await tx.$executeRaw`UPDATE "Server" SET "updatedAt" = ${at} WHERE "id" = ${server.id}`;
    const locked = await tx.server.findUniqueOrThrow({ where: { id: server.id } });
    await checkQuotas(tx, locked, requesterId, options, limits, at);
    const row = await tx.job.create({
      data: {
        ...job,
        serverId: server.id,
        requesterId,
        options: encodeOptions(options),
        layers: options.layers,
        size: options.size,
        createdAt: at,
      },
    });
    await recordUsage(tx, row, at);
    return { jobId: row.id, at };
  }, TX_OPTIONS);
}

/** The accepted job as the member is told it: its view, its place in the queue and the expected wait. */
export async function submission(core: Core, jobId: number): Promise<Submission> {
  const job = toJobView((await loadJob(core.db, jobId))!);
  const { position, etaMs } = await standing(core.db.prisma, jobId, {
    staleAfterMs: core.config.jobs.staleAfterMs,
    now: new Date(),
  });
  core.log.info({ jobId, server: job.server, platform: job.platform, position }, 'job queued');
  return { job, position, etaMs };
}

/**
 * What submitJob checks of the member's images before anything else, from their headers alone (nothing decoded):
 * that they are images, and that their shapes can be painted with `options` (requirePaintableShape). For an
 * adapter that has the files before it posts anything in public; throws ImageError, UserError, or the operator's
 * error when painting is unavailable.
 */
export async function checkImages(
  core: Core,
  request: Pick<SubmitRequest, 'server' | 'content' | 'styles'> & { options: CheckedOptions },
): Promise<void> {
  const server = await ensureServer(core.db.prisma, request.server);
  const bounds = await operatorBounds(core, request.options.layers);
  await shapeChecker(server, request.options, bounds).members(request);
}

/** Checks images' shapes from their headers; ImageError for a file that is no image. */
export function shapeChecker(server: ServerRow, options: CheckedOptions, bounds: OperatorBounds) {
  const at = {
    size: options.size,
    layers: bounds.layers,
    maxSize: effectiveLimits(server, bounds.limits).maxSize,
  };
  const check = async (bytes: Buffer, subject: ImageSubject) =>
    requirePaintableShape(await probeImage(bytes), subject, at);
  return {
    check,
    /** The member's own: the photo and any uploaded style image. */
    async members(request: Pick<SubmitRequest, 'content' | 'styles'>): Promise<void> {
      await check(request.content, { kind: 'photo' });
      for (const style of request.styles) if ('image' in style) await check(style.image, { kind: 'style' });
    },
  };
}
