import { defaultsWithin, type RequestLimits } from '../request-rules.ts';
import type { Core } from './core.ts';
import { UserError } from './errors.ts';
import { type JobOptions, type JobOptionsInput, jobOptionsSchema } from './options.ts';
import { requirePreset } from './presets.ts';
import { checkQuotas, effectiveLimits } from './quotas.ts';
import { ensureServer, type ServerRef } from './servers.ts';

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
}

export interface CheckedRequest {
  /** The options to submit: the member's, with the defaults for the rest. */
  options: JobOptions;
  /** The server's limits on them now, for the forms. */
  limits: RequestLimits;
}

/**
 * Everything about a request that can be decided before its images are downloaded and before anything is posted
 * in public: its options against the rules and the server's limits, the daily and concurrent quotas, and that
 * the presets it names exist. Throws UserError or QuotaError, with the sentence for the member; returns the
 * options to submit. submitJob checks the limits again once the images are there, since another request may
 * have been accepted in between.
 */
export async function checkRequest(core: Core, request: RequestCheck): Promise<CheckedRequest> {
  const { prisma } = core.db;
  const server = await ensureServer(prisma, request.server);
  const all = effectiveLimits(server, core.config.limits);
  const limits = { maxSize: all.maxSize, maxIterations: all.maxIterations };
  const chosen = Object.fromEntries(
    Object.entries(request.options ?? {}).filter(([, value]) => value !== undefined),
  );
  const defaults = request.defaults ?? {};
  const parsed = jobOptionsSchema.safeParse({ ...defaults, ...defaultsWithin(defaults, limits), ...chosen });
  if (!parsed.success) throw new UserError('invalid-input', parsed.error.issues[0]!.message);
  await checkQuotas(prisma, server, request.requesterId, parsed.data, core.config.limits, new Date());
  for (const name of request.presets ?? []) await requirePreset(core, server, name);
  return { options: parsed.data, limits };
}

/** The server's limits on one request's options now (what the forms may offer). */
export async function requestLimits(core: Core, server: ServerRef): Promise<RequestLimits> {
  const all = effectiveLimits(await ensureServer(core.db.prisma, server), core.config.limits);
  return { maxSize: all.maxSize, maxIterations: all.maxIterations };
}
