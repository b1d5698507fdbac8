import type { Client, ServerRow, Tx } from '../jobs/db.ts';
import type { JobOptions } from '../jobs/options.ts';
import { plural } from '../jobs/plural.ts';
import { placeName } from '../jobs/servers.ts';
import { usageToday } from '../jobs/usage.ts';
import { MemberFacingError } from '../lib/member-error.ts';
import type { Limits } from '../lib/request-rules.ts';

/**
 * The limits a server's admins set (null in the server's row: the operator's default from the config).
 * Five refuse a request when it is made; the last two are the scheduler's: how many of the server's jobs,
 * and of one member's, may run at once (more wait in the queue; see scheduler.ts).
 */
export type LimitName = keyof Limits;
export const LIMIT_NAMES = [
  'serverDailyJobs',
  'memberDailyJobs',
  'memberActiveJobs',
  'maxSize',
  'maxIterations',
  'serverRunningJobs',
  'memberRunningJobs',
] as const satisfies readonly LimitName[];

/**
 * A refusal: which limit, its value, and when it resets (null where waiting for midnight does not help). The
 * message does not say when: each chat adapter adds `resetsAt` in its members' local time.
 */
export class QuotaError extends MemberFacingError {
  override readonly name = 'QuotaError';
  constructor(
    readonly limit: LimitName,
    readonly max: number,
    readonly resetsAt: Date | null,
    message: string,
  ) {
    super('quota', message, { context: { limit, max, resetsAt } });
  }
}

/**
 * A server's limits: its admins' where they set one, else (or for a server never seen, null) the operator's `defaults`. The operator's largest size
 * is also a ceiling (what the workers can paint): a server's admins may lower it, never raise it.
 */
export function effectiveLimits(server: Pick<ServerRow, LimitName> | null, defaults: Limits): Limits {
  const limits = { ...defaults };
  for (const name of LIMIT_NAMES) limits[name] = server?.[name] ?? defaults[name];
  limits.maxSize = Math.min(limits.maxSize, defaults.maxSize);
  return limits;
}

export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** Throws a QuotaError naming the first limit this request would go over. */
export async function checkQuotas(
  prisma: Client | Tx,
  server: ServerRow,
  requesterId: string,
  options: JobOptions,
  defaults: Limits,
  now: Date,
): Promise<void> {
  const limits = effectiveLimits(server, defaults);
  const place = placeName(server.platform);
  if (options.size > limits.maxSize) {
    throw new QuotaError(
      'maxSize',
      limits.maxSize,
      null,
      `The largest painting on this ${place} is ${limits.maxSize} px; ask for ${limits.maxSize} px or less.`,
    );
  }
  if (options.iterations > limits.maxIterations) {
    throw new QuotaError(
      'maxIterations',
      limits.maxIterations,
      null,
      `This ${place} allows at most ${plural(limits.maxIterations, 'iteration')}; ` +
        `ask for ${limits.maxIterations} or fewer.`,
    );
  }
  const midnight = nextUtcMidnight(now);
  const usage = await usageToday(prisma, server.id, now);
  if (usage.server >= limits.serverDailyJobs) {
    throw new QuotaError(
      'serverDailyJobs',
      limits.serverDailyJobs,
      midnight,
      `This ${place} has had its ${plural(limits.serverDailyJobs, 'painting')} for today.`,
    );
  }
  if ((usage.byMember.get(requesterId) ?? 0) >= limits.memberDailyJobs) {
    throw new QuotaError(
      'memberDailyJobs',
      limits.memberDailyJobs,
      midnight,
      `You have had your ${plural(limits.memberDailyJobs, 'painting')} for today.`,
    );
  }
  const active = await prisma.job.count({
    where: { serverId: server.id, requesterId, status: { in: ['queued', 'running'] } },
  });
  if (active >= limits.memberActiveJobs) {
    throw new QuotaError(
      'memberActiveJobs',
      limits.memberActiveJobs,
      null,
      `You already have ${plural(active, 'painting')} queued or in progress, the most this ${place} allows; ` +
        'send this again when one of them is done.',
    );
  }
}
