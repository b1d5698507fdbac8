import { LAYERS, type LayersChoice, type Limits } from '../lib/request-rules.ts';
import { type Database, TX_OPTIONS, type Tx } from './db.ts';
import { CHANGED, type Lease } from './jobs.ts';

/**
 * Which job runs next, fairly across servers. Workers are separate processes, possibly on other machines, so
 * an in-process queue per server could not be fair across them: the fairness lives in the one atomic claim
 * every worker makes against the database. The claim takes the first accepted queued job of
 * the server served longest ago (round-robin by the server's lastClaimedAt), skipping servers already running
 * their `serverRunningJobs` and members already running their `memberRunningJobs`, and jobs the worker cannot
 * paint (layers its weights lack, a size its memory does not fit): those wait for a worker that can.
 */

/** The largest size (longer side, px) a worker paints for each value of a job's `layers` (workers.ts). */
export type Paints = Partial<Record<LayersChoice, number>>;

// A job this worker can paint. Layer names come from the fixed list and sizes are whole numbers: safe inline.
const paintable = (paints: Paints) => {
  const terms = LAYERS.flatMap((layers) => {
    const max = paints[layers];
    return max === undefined ? [] : [`(j."layers" = '${layers}' AND j."size" <= ${Math.floor(Number(max))})`];
  });
  return terms.length > 0 ? `(${terms.join(' OR ')})` : '1 = 0';
};

// Shared by both dialects: a queued job may start if neither its server nor its member is at the running limit.
// Where a server's admins left a limit unset, the operator's default applies (a number from the config, inlined).
const eligible = (defaults: Limits, paints: Paints) => `
  j."status" = 'queued' AND j."cancelRequested" = false AND ${paintable(paints)}
  AND (SELECT COUNT(*) FROM "Job" r WHERE r."serverId" = j."serverId" AND r."status" = 'running')
      < COALESCE(s."serverRunningJobs", ${Number(defaults.serverRunningJobs)})
  AND (SELECT COUNT(*) FROM "Job" r
       WHERE r."serverId" = j."serverId" AND r."requesterId" = j."requesterId" AND r."status" = 'running')
      < COALESCE(s."memberRunningJobs", ${Number(defaults.memberRunningJobs)})`;
// Job ids are the order of acceptance (submit.ts): within a server, and between servers served equally long ago.
const ROUND_ROBIN = 'ORDER BY s."lastClaimedAt" ASC NULLS FIRST, j."id" ASC';

/** Claims the next job for `workerId` that it `paints`, or returns undefined when nothing may start now. */
export async function claimJob(
  db: Database,
  workerId: string,
  defaults: Limits,
  paints: Paints,
): Promise<Lease | undefined> {
  const now = new Date();
  const claim = db.provider === 'sqlite' ? claimSqlite : claimPostgres;
  // A PostgreSQL claim can lose the race for a server's last running slot to another worker: then try again,
  // and the next candidate query, seeing that worker's job, skips the server.
  for (let round = 0; round < 5; round++) {
    try {
      const lease = await db.prisma.$transaction(
        (tx) => claim(tx, workerId, defaults, paints, now),
        TX_OPTIONS,
      );
      if (lease) await db.notify(lease.jobId);
      return lease;
    } catch (error) {
      if (!(error instanceof RetryClaim)) throw error;
    }
  }
  return undefined;
}

/**
 * SQLite: one conditional UPDATE … RETURNING. It is the transaction's first statement, so it takes the database
 * write lock before reading: the choice and the limit counts cannot change under it.
 */
async function claimSqlite(
  tx: Tx,
  workerId: string,
  defaults: Limits,
  paints: Paints,
  now: Date,
): Promise<Lease | undefined> {
  const rows = await tx.$queryRawUnsafe<
    { id: number | bigint; serverId: number | bigint; attempts: number }[]
  >(
    `UPDATE "Job" SET "status" = 'running', "workerId" = ?, "attempts" = "attempts" + 1, "startedAt" = ?,
       "heartbeatAt" = ?, "iteration" = 0, "etaMs" = NULL, "revision" = "revision" + 1, "eventPending" = true
     WHERE "status" = 'queued' AND "id" = (
       SELECT j."id" FROM "Job" j JOIN "Server" s ON s."id" = j."serverId"
       WHERE ${eligible(defaults, paints)} ${ROUND_ROBIN} LIMIT 1)
     RETURNING "id", "serverId", "attempts"`,
    workerId,
    now,
    now,
  );
  const row = rows[0];
  if (!row) return undefined;
  await tx.server.update({ where: { id: Number(row.serverId) }, data: { lastClaimedAt: now } });
  return { jobId: Number(row.id), workerId, attempt: Number(row.attempts) };
}

/**
 * PostgreSQL: the candidate row is locked with FOR UPDATE SKIP LOCKED, so concurrent workers take different
 * jobs without waiting on each other. Running counts read under READ COMMITTED can miss a claim another worker
 * is committing, so the server row is then locked and the limits checked again before the job is taken. The
 * lock and the count are two statements: under READ COMMITTED each statement reads a snapshot taken when it
 * starts, so a count in the locking statement itself would read the snapshot from before the lock wait and
 * miss the claim whose commit released the lock (20 of 20 rounds of three simultaneous claims went over the
 * limits that way); the count after the lock sees every claim of this server that committed before it.
 */
async function claimPostgres(
  tx: Tx,
  workerId: string,
  defaults: Limits,
  paints: Paints,
  now: Date,
): Promise<Lease | undefined> {
  const candidates = await tx.$queryRawUnsafe<{ id: number; serverId: number; requesterId: string }[]>(
    `SELECT j."id", j."serverId", j."requesterId" FROM "Job" j JOIN "Server" s ON s."id" = j."serverId"
     WHERE ${eligible(defaults, paints)} ${ROUND_ROBIN} LIMIT 1
     FOR UPDATE OF j SKIP LOCKED`,
  );
  const job = candidates[0];
  if (!job) return undefined;
  await tx.$queryRawUnsafe(`SELECT 1 FROM "Server" WHERE "id" = $1 FOR UPDATE`, job.serverId);
  const still = await tx.$queryRawUnsafe<{ ok: boolean }[]>(
    `SELECT (SELECT COUNT(*) FROM "Job" r WHERE r."serverId" = s."id" AND r."status" = 'running')
              < COALESCE(s."serverRunningJobs", $2)
        AND (SELECT COUNT(*) FROM "Job" r
             WHERE r."serverId" = s."id" AND r."requesterId" = $3 AND r."status" = 'running')
              < COALESCE(s."memberRunningJobs", $4) AS "ok"
     FROM "Server" s WHERE s."id" = $1`,
    job.serverId,
    defaults.serverRunningJobs,
    job.requesterId,
    defaults.memberRunningJobs,
  );
  if (!still[0]?.ok) throw new RetryClaim();
  const claimed = await tx.job.update({
    where: { id: job.id },
    data: {
      status: 'running',
      workerId,
      attempts: { increment: 1 },
      startedAt: now,
      heartbeatAt: now,
      iteration: 0,
      etaMs: null,
      ...CHANGED,
    },
    select: { attempts: true },
  });
  await tx.server.update({ where: { id: job.serverId }, data: { lastClaimedAt: now } });
  return { jobId: job.id, workerId, attempt: claimed.attempts };
}

/** Thrown inside the PostgreSQL claim to roll it back (releasing the locks) before trying again. */
class RetryClaim extends Error {}
