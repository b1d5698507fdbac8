import { z } from 'zod';
import { decodeImage, encodeImage } from '../images/index.ts';
import { recommendedStrength } from '../presets/catalogue.ts';
import type { Core } from './core.ts';
import { TX_OPTIONS } from './db.ts';
import { UserError } from './errors.ts';
import { type JobView, loadJob, toJobView } from './jobs.ts';
import { jobOptionsSchema, type StyleRefs } from './options.ts';
import { MAX_STYLE_SIDE, presetBytes } from './presets.ts';
import { standing } from './queue.ts';
import { checkQuotas, recordUsage } from './quotas.ts';
import { ensureServer, PLATFORMS, type ServerRef } from './servers.ts';

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

/**
 * Accepts a painting request: limits first (a refusal costs nothing), then the images are normalised (decoded
 * safely, resized to what the job needs, stored as PNG), then the job and its usage are written together with
 * the limits checked again, since another request may have been accepted meanwhile. Throws UserError,
 * QuotaError or ImageError with a message for the member; nothing is left behind when it throws.
 */
export async function submitJob(core: Core, request: SubmitRequest): Promise<Submission> {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) throw new UserError('invalid-input', parsed.error.issues[0]!.message);
  const req = parsed.data;
  // Unless the member chose one, catalogue paintings are applied at the strength that suits them.
  if (request.options?.strength === undefined) {
    req.options.strength = (await recommendedStrength(req.styles)) ?? req.options.strength;
  }
  const { prisma } = core.db;
  const server = await ensureServer(prisma, req.server);
  await checkQuotas(prisma, server, req.requesterId, req.options, core.config.limits, new Date());

  const stored: string[] = [];
  const store = async (image: Parameters<typeof encodeImage>[0]) => {
    const ref = await core.images.put({ mime: 'image/png', bytes: await encodeImage(image, 'png') });
    stored.push(ref);
    return ref;
  };
  const now = new Date();
  let jobId: number;
  try {
    const contentRef = await store(await decodeImage(req.content, { maxSide: req.options.size }));
    const styleSide = Math.min(MAX_STYLE_SIDE, req.options.size);
    const styleRefs: StyleRefs = [];
    for (const style of req.styles) {
      const [name, bytes] =
        'preset' in style
          ? [style.preset, await presetBytes(core, server, style.preset)]
          : [style.name, style.image];
      const ref = await store(await decodeImage(bytes, { maxSide: styleSide }));
      styleRefs.push({
        ref,
        name,
        weight: style.weight ?? 1,
        ...('preset' in style ? { preset: true } : {}),
      });
    }

    jobId = await prisma.$transaction(async (tx) => {
      // Written first: this takes the server row's lock on PostgreSQL and the write lock on SQLite, so the
      // limits of one server are checked and used by one request at a time.
      await tx.$executeRaw`UPDATE "Server" SET "updatedAt" = ${now} WHERE "id" = ${server.id}`;
      const locked = await tx.server.findUniqueOrThrow({ where: { id: server.id } });
      await checkQuotas(tx, locked, req.requesterId, req.options, core.config.limits, now);
      const job = await tx.job.create({
        data: {
          serverId: server.id,
          channelId: req.channelId,
          threadId: req.threadId ?? null,
          requesterId: req.requesterId,
          options: JSON.stringify(req.options),
          contentRef,
          styleRefs: JSON.stringify(styleRefs),
          createdAt: now,
        },
      });
      await recordUsage(tx, job, now);
      return job.id;
    }, TX_OPTIONS);
  } catch (error) {
    await core.images.delete(stored);
    throw error;
  }

  const job = toJobView((await loadJob(core.db, jobId))!);
  const { position, etaMs } = await standing(prisma, jobId, {
    staleAfterMs: core.config.jobs.staleAfterMs,
    now,
  });
  core.log.info({ jobId, server: req.server.id, platform: req.server.platform, position }, 'job queued');
  return { job, position, etaMs };
}
