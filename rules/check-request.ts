import { operatorBounds } from '../jobs/capacity.ts';
import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { type CheckedOptions, type JobOptionsInput, jobOptionsSchema } from '../jobs/options.ts';
import { ensureServer, findServer, type ServerRef } from '../jobs/servers.ts';
import { type ImageSubject, requirePaintableShape } from '../jobs/shape.ts';
import { defaultsWithin, type LayersChoice, type RequestLimits } from '../lib/request-rules.ts';
import { requirePreset } from '../presets/index.ts';
import { checkQuotas, effectiveLimits } from './quotas.ts';

/** A /stylize request as far as it is known before its images are downloaded. */
export interface RequestCheck {
  server: ServerRef;
  requesterId: string;
  /** What the member chose; undefined values count as left out. */
  options?: JobOptionsInput | undefined;
  /** The deployment's options for what the member left out (size and iterations lowered to the limits). */
  defaults?: JobOptionsInput | undefined;
  /** The presets named. */
  presets?: readonly string[] | undefined;
  /** The member's images' sizes where the platform tells them before a download (their shapes are checked). */
  images?: readonly ({ subject: ImageSubject; width: number; height: number } | undefined)[] | undefined;
}

export interface CheckedRequest {
  /** The options to submit: the member's, with the defaults for the rest. */
  options: CheckedOptions;
  /** The server's limits on them now, for the forms. */
  limits: RequestLimits;
}

/**
 * Everything about a request that can be decided before its images are downloaded and before anything is posted
 * in public: that the live workers can paint it at all, its options against the rules and the server's limits
 * (the largest size also within what the workers can paint), the daily and concurrent quotas, that the presets
 * it names exist, and the shapes of the images whose sizes the platform told. Throws UserError or QuotaError with
 * the sentence for the member, or the operator's error when painting is unavailable; returns the options to
 * submit. submitJob checks the limits again once the images are there, since another request may have been
 * accepted in between.
 */
export async function checkRequest(core: Core, request: RequestCheck): Promise<CheckedRequest> {
  const { prisma } = core.db;
  const server = await ensureServer(prisma, request.server);
  const chosen = Object.fromEntries(
    Object.entries(request.options ?? {}).filter(([, value]) => value !== undefined),
  );
  const defaults = request.defaults ?? {};
  const bounds = await operatorBounds(core, layersOf({ ...defaults, ...chosen }));
  const all = effectiveLimits(server, bounds.limits);
  const limits = { maxSize: all.maxSize, maxIterations: all.maxIterations };
  const parsed = jobOptionsSchema.safeParse({ ...defaults, ...defaultsWithin(defaults, limits), ...chosen });
  if (!parsed.success) throw new UserError('invalid-input', parsed.error.issues[0]!.message);
  await checkQuotas(prisma, server, request.requesterId, parsed.data, bounds.limits, new Date());
  for (const name of request.presets ?? []) await requirePreset(core, server, name);
  const at = { size: parsed.data.size, layers: bounds.layers, maxSize: limits.maxSize };
  for (const image of request.images ?? []) if (image) requirePaintableShape(image, image.subject, at);
  const { strength, ...rest } = parsed.data;
  return { options: chosen.strength === undefined ? rest : { ...rest, strength }, limits };
}

/** The server's limits on one request's options now (what the forms may offer); reads only. */
export async function requestLimits(
  core: Core,
  server: ServerRef,
  defaults: JobOptionsInput = {},
): Promise<RequestLimits> {
  const bounds = await operatorBounds(core, layersOf(defaults), { refuse: false });
  const all = effectiveLimits(await findServer(core.db.prisma, server), bounds.limits);
  return { maxSize: all.maxSize, maxIterations: all.maxIterations };
}

/** The layers a request asks for; an invalid value is refused with the rest of the options. */
function layersOf(options: JobOptionsInput): LayersChoice {
  const parsed = jobOptionsSchema.shape.layers.safeParse(options.layers);
  return parsed.success ? parsed.data : 'auto';
}
