import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import {
  type Child,
  createTestDatabase,
  logLines,
  spawnNpm,
  spawnProcess,
  stopProcess,
  submit,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// `npm start` runs workers beside the bot: when the bot dies without stopping them (SIGKILL, a crash), or the
// `npm start` process itself is killed, nothing may paint on unsupervised, and a Ctrl-C stops everything
// gracefully: each worker puts its job back in the queue and exits.
describe('workers of a bot that died', () => {
  let db: TestDatabase;
  let core: Core;
  const children: Child[] = [];
  const pids: number[] = [];
  let workerPid: number | undefined;

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    core = await testCore(db);
  });
  afterEach(async () => {
    for (const pid of [...pids.splice(0), ...(workerPid === undefined ? [] : [workerPid])]) {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await Promise.all(children.splice(0).map((c) => stopProcess(c, 'SIGKILL')));
    await core?.close();
    await db?.drop();
  });

  it('put their job back in the queue and exit when the bot is killed', async () => {
    const bot = spawnProcess('bot/main.ts', testEnv(db, { BOT_WORKERS: '1', WORKER_BACKEND: 'wasm' }));
    children.push(bot);
    const { job } = await submit(core, 'orphaned', 'ann', { size: 24, iterations: 400 });
    const row = () => core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    await waitFor('the job to be painting', async () => (await row()).iteration >= 1, 90_000);
    workerPid = logLines(bot.output(), 'worker process started')[0]!.workerPid as number;

    bot.process.kill('SIGKILL');
    await bot.exited;
    const killedAt = Date.now();
    await waitFor('the worker to exit', async () => !alive(workerPid!), 30_000);
    const back = await row();
    console.log(`a worker of a killed bot exited ${Date.now() - killedAt} ms after the bot`);
    // Put back at once (STALE_AFTER_MS is 20 s here), its attempt not counted.
    expect({ status: back.status, attempts: back.attempts, workerId: back.workerId }).toEqual({
      status: 'queued',
      attempts: 0,
      workerId: null,
    });
  });

  /** `npm run dev` (`npm start` on the sources) in a process group of its own, as a terminal runs it; its output collected. */
  function npmStart(env: Record<string, string>) {
    const npm = spawnNpm('dev', env);
    pids.push(npm.process.pid!);
    return { npm: npm.process, output: npm.output };
  }

  /** Starts `npm start` with a long job painting; returns it with the bot's and the worker's process ids. */
  async function painting(member: string) {
    const started = npmStart(testEnv(db, { BOT_WORKERS: '1', WORKER_BACKEND: 'wasm' }));
    const { job } = await submit(core, 'local', member, { size: 24, iterations: 400 });
    const row = () => core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    await waitFor('the job to be painting', async () => (await row()).iteration >= 1, 90_000);
    const botPid = logLines(started.output(), 'database ready').find((l) => l.name === 'bot')!.pid as number;
    workerPid = logLines(started.output(), 'worker process started')[0]!.workerPid as number;
    pids.push(botPid);
    return { ...started, row, botPid, workerPid };
  }

  it('stop, putting their job back, when the `npm start` process is killed', async () => {
    const { npm, output, row, botPid, workerPid } = await painting('ben');
    npm.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the bot and its worker to exit', async () => !alive(botPid) && !alive(workerPid), 30_000);
    console.log(`the bot and worker of a killed npm start exited ${Date.now() - killedAt} ms after npm`);
    const back = await row();
    expect({ status: back.status, attempts: back.attempts }).toEqual({ status: 'queued', attempts: 0 });
    expect(logLines(output(), 'worker stopping; job put back in the queue')).toHaveLength(1);
  });

  it('put their job back on Ctrl-C, which the terminal sends to npm, the bot and the workers at once', async () => {
    const { npm, output, row, botPid, workerPid } = await painting('cid');
    process.kill(-npm.pid!, 'SIGINT');
    await waitFor('the bot and its worker to exit', async () => !alive(botPid) && !alive(workerPid), 30_000);
    const back = await row();
    expect({ status: back.status, attempts: back.attempts }).toEqual({ status: 'queued', attempts: 0 });
    expect(logLines(output(), 'worker stopping; job put back in the queue')).toHaveLength(1);
  });
});
