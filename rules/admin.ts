import { z } from 'zod';
import type { Core } from '../jobs/core.ts';
import { UserError } from '../jobs/errors.ts';
import { decodeWorkOptions } from '../jobs/job-row.ts';
import type { JobStatus } from '../jobs/jobs.ts';
import { queueOrder } from '../jobs/queue.ts';
import { ensureServer, type ServerRef } from '../jobs/servers.ts';
import { usageToday } from '../jobs/usage.ts';
import { LIMIT_RULES, type Limits } from '../lib/request-rules.ts';
import { deletePreset, savePreset } from '../presets/index.ts';
import type { Actor } from './cancel.ts';
import { effectiveLimits, LIMIT_NAMES, type LimitName, nextUtcMidnight } from './quotas.ts';

/**
 * The /stylize-admin operations, shared by both chat adapters: limits, the queue, presets. (Cancelling is in
 * cancel.ts: members cancel their own jobs with the same code.) Every operation checks `actor.isAdmin`; the
 * adapters decide it from the platform's permissions.
 */
export interface LimitsReport {
  limits: { name: LimitName; value: number; isDefault: boolean }[];
  /** Jobs counted today (UTC) against the daily limits, refunds excluded. */
  usedToday: number;
  /** When the daily counts start again (the next midnight UTC). */
  dailyResetsAt: Date;
}

export async function showLimits(core: Core, server: ServerRef, actor: Actor): Promise<LimitsReport> {
  requireAdmin(actor);
  const row = await ensureServer(core.db.prisma, server);
  const limits = effectiveLimits(row, core.config.limits);
  const now = new Date();
  const usage = await usageToday(core.db.prisma, row.id, now);
  return {
    limits: LIMIT_NAMES.map((name) => ({ name, value: limits[name], isDefault: row[name] === null })),
    usedToday: usage.server,
    dailyResetsAt: nextUtcMidnight(now),
  };
}

/** null puts a limit back to the operator's default. */
const limitsPatchSchema = z.strictObject(
  Object.fromEntries(
    LIMIT_NAMES.map((name) => {
      const { min, max } = LIMIT_RULES[name];
      return [name, z.number().int().min(min).max(max).nullable().optional()];
    }),
  ) as Record<LimitName, z.ZodOptional<z.ZodNullable<z.ZodNumber>>>,
);
export type LimitsPatch = Partial<Record<keyof Limits, number | null>>;

export async function setLimits(
  core: Core,
  server: ServerRef,
  patch: LimitsPatch,
  actor: Actor,
): Promise<LimitsReport> {
  requireAdmin(actor);
  const parsed = limitsPatchSchema.safeParse(patch);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path[0] as LimitName | undefined;
    const rule = name === undefined ? undefined : LIMIT_RULES[name];
    throw new UserError(
      'invalid-input',
      rule
        ? `\`${rule.key}\` is a whole number from ${rule.min} to ${rule.max}.`
        : `limits: ${issue.message}`,
    );
  }
  const ceiling = core.config.limits.maxSize;
  if (parsed.data.maxSize != null && parsed.data.maxSize > ceiling) {
    throw new UserError(
      'invalid-input',
      `\`${LIMIT_RULES.maxSize.key}\` can be at most ${ceiling} px: that is the largest painting this bot makes.`,
    );
  }
  const row = await ensureServer(core.db.prisma, server);
  await core.db.prisma.server.update({ where: { id: row.id }, data: parsed.data });
  core.log.info(
    { server: server.id, platform: server.platform, by: actor.userId, ...parsed.data },
    'limits set',
  );
  return showLimits(core, server, actor);
}

export interface QueueEntry {
  jobId: number;
  requesterId: string;
  status: Extract<JobStatus, 'queued' | 'running'>;
  /** Place in the whole queue (all servers), for queued jobs. */
  position: number | null;
  iteration: number;
  iterations: number;
  createdAt: Date;
}

/** The server's running jobs, then its queued ones in the order they will start. */
export async function listQueue(core: Core, server: ServerRef, actor: Actor): Promise<QueueEntry[]> {
  requireAdmin(actor);
  const row = await ensureServer(core.db.prisma, server);
  const jobs = await core.db.prisma.job.findMany({
    where: { serverId: row.id, status: { in: ['queued', 'running'] } },
    select: { id: true, requesterId: true, status: true, iteration: true, options: true, createdAt: true },
  });
  const positions = new Map((await queueOrder(core.db.prisma)).map((q) => [q.id, q.position]));
  return jobs
    .map((job) => ({
      jobId: job.id,
      requesterId: job.requesterId,
      status: job.status as QueueEntry['status'],
      position: positions.get(job.id) ?? null,
      iteration: job.iteration,
      iterations: decodeWorkOptions(job).iterations,
      createdAt: job.createdAt,
    }))
    .sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.jobId - b.jobId);
}

export async function addPreset(
  core: Core,
  server: ServerRef,
  name: string,
  image: Buffer,
  actor: Actor,
): Promise<void> {
  requireAdmin(actor);
  await savePreset(core, await ensureServer(core.db.prisma, server), name, image, actor.userId);
}

export async function removePreset(core: Core, server: ServerRef, name: string, actor: Actor): Promise<void> {
  requireAdmin(actor);
  await deletePreset(core, await ensureServer(core.db.prisma, server), name);
}

function requireAdmin(actor: Actor): void {
  if (!actor.isAdmin) throw new UserError('forbidden', 'Only an admin of this server can do that.');
}
