import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { requestCancel } from '../jobs/jobs.ts';
import {
  type Child,
  createTestDatabase,
  PROVIDERS,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

// A worker killed mid-job while the other worker is busy with a long job: its job must be taken back within
// STALE_AFTER_MS plus one heartbeat of its last heartbeat, not when a worker next has a free slot.
describe.each(PROVIDERS)('takeover with busy survivors on %s', (provider) => {
  const STALE_AFTER_MS = 1500;
  const HEARTBEAT_MS = 200;
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];
  // The WASM backend paints 400 iterations for far longer than the takeover takes.
  const env = {
    STALE_AFTER_MS: String(STALE_AFTER_MS),
    HEARTBEAT_MS: String(HEARTBEAT_MS),
    WORKER_BACKEND: 'wasm',
  };
  const spawnWorker = () => {
    const child = spawnProcess('worker/main.ts', testEnv(db, env));
    children.push(child);
    return child;
  };

  beforeEach(async () => {
    db = await createTestDatabase(provider);
    core = await testCore(db, env);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => stopProcess(c, 'SIGKILL')));
    await core?.close();
    await db?.drop();
  });

  const job = (id: number) => core.db.prisma.job.findUniqueOrThrow({ where: { id } });
  const painting = (id: number) =>
    waitFor(`job ${id} to be painting`, async () => (await job(id)).iteration >= 1, 90_000);

  it('takes the dead worker’s job back while the survivor is still painting', async () => {
    const long = { size: 24, iterations: 400 };
    spawnWorker();
    const busy = await submit(core, 'takeover', 'survivor', long);
    await painting(busy.job.id);
    const victim = spawnWorker();
    const orphaned = await submit(core, 'takeover', 'victim', long);
    await painting(orphaned.job.id);

    victim.process.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    const { heartbeatAt } = await job(orphaned.job.id);
    const back = await waitFor(
      'the job to be taken back',
      async () => (await job(orphaned.job.id)).status !== 'running' && Date.now(),
      60_000,
    );
    const survivor = await job(busy.job.id);
    const sinceHeartbeat = back - heartbeatAt!.getTime();
    console.log(
      `takeover on ${provider} with a busy survivor: ${back - killedAt} ms after the kill, ` +
        `${sinceHeartbeat} ms after the last heartbeat (STALE_AFTER_MS ${STALE_AFTER_MS}, HEARTBEAT_MS ${HEARTBEAT_MS})`,
    );
    expect(survivor.status).toBe('running'); // the survivor had no free slot all along
    expect((await job(orphaned.job.id)).status).toBe('queued');
    // Within the stale timeout plus one heartbeat, with room for a loaded machine's scheduling.
    expect(sinceHeartbeat).toBeLessThan(STALE_AFTER_MS + HEARTBEAT_MS + 2000);

    for (const id of [busy.job.id, orphaned.job.id]) await requestCancel(core.db, id, 'test', new Date());
  });
});
