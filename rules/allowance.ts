import type { Core } from '../jobs/core.ts';
import type { JobOptionsInput } from '../jobs/options.ts';
import { findServer, type ServerRef } from '../jobs/servers.ts';
import { usageToday } from '../jobs/usage.ts';
import type { RequestLimits } from '../lib/request-rules.ts';
import { requestLimits } from './check-request.ts';
import { effectiveLimits, nextUtcMidnight } from './quotas.ts';

/** What one member may still ask for in a server today, for the help answer. */
export interface MemberAllowance extends RequestLimits {
  /** The member's own daily limit, and how many of today's paintings they have had (refunds excluded). */
  memberDailyJobs: number;
  usedToday: number;
  /** Paintings they can still ask for today: within their own limit and what is left of the server's. */
  leftToday: number;
  /** Paintings they may have queued or in progress at once, and how many they have now. */
  memberActiveJobs: number;
  active: number;
  /** When the daily counts start again (UTC midnight). */
  resetsAt: Date;
}

/**
 * The server's limits on one request (as the forms offer them: requestLimits) and the member's standing against
 * the daily and concurrent quotas now. Reads only: a server never seen gets the operator's defaults, unrecorded.
 */
export async function memberAllowance(
  core: Core,
  server: ServerRef,
  requesterId: string,
  defaults: JobOptionsInput = {},
): Promise<MemberAllowance> {
  const { prisma } = core.db;
  const now = new Date();
  const [request, row] = await Promise.all([
    requestLimits(core, server, defaults),
    findServer(prisma, server),
  ]);
  const limits = effectiveLimits(row, core.config.limits);
  const [usage, active] = row
    ? await Promise.all([
        usageToday(prisma, row.id, now),
        prisma.job.count({
          where: { serverId: row.id, requesterId, status: { in: ['queued', 'running'] } },
        }),
      ])
    : [{ server: 0, byMember: new Map<string, number>() }, 0];
  const usedToday = usage.byMember.get(requesterId) ?? 0;
  return {
    ...request,
    memberDailyJobs: limits.memberDailyJobs,
    usedToday,
    leftToday: Math.max(
      0,
      Math.min(limits.memberDailyJobs - usedToday, limits.serverDailyJobs - usage.server),
    ),
    memberActiveJobs: limits.memberActiveJobs,
    active,
    resetsAt: nextUtcMidnight(now),
  };
}
