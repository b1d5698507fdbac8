/**
 * The bot's two ways of meeting Discord against the fake platforms: `npm start` (bot/main.ts, one gateway
 * connection in the bot) and `npm run start:sharded` (bot/shard.ts: the manager asks for the recommended
 * shard count and spawns the shard process, which identifies as shard [0, 1] and answers interactions, while the
 * manager serves Slack, the health server and every job event). In both, /readyz follows the gateway: 503 from a
 * disconnect until the session is resumed. SIGTERM stops them all.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../jobs/core.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { submitJob } from '../rules/submit.ts';
import { asset } from './assets.ts';
import {
  type Child,
  createTestDatabase,
  finishJob,
  healthPort,
  logLines,
  PAINTS_ANY,
  request,
  spawnProcess,
  stopProcess,
  type TestDatabase,
  testCore,
  testEnv,
  waitFor,
} from './job-system.ts';
import { alice, chatEnv, type Platforms, platforms, slackMember } from './platforms.ts';

let fakes: Platforms;
let db: TestDatabase;
let core: Core;
let bot: Child | undefined;

beforeAll(async () => {
  fakes = await platforms();
  db = await createTestDatabase('sqlite');
  core = await testCore(db);
});
afterEach(async () => {
  if (bot) await stopProcess(bot, 'SIGKILL');
  bot = undefined;
});
afterAll(async () => {
  await core?.close();
  await fakes?.discord.close();
  await fakes?.slack.close();
  await db?.drop();
});

const readyz = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { reason?: string } };
};

/** The bot's /readyz turns 503 when the gateway drops, stays so while Discord keeps it away, and 200 on resume. */
async function readinessFollowsTheGateway(port: number): Promise<{ reason?: string }> {
  const { discord } = fakes;
  await waitFor('the bot ready', async () => (await readyz(port)).status === 200, 30_000);
  const held = discord.holdGateway();
  discord.disconnectGateway(4000);
  const down = await waitFor('/readyz to turn 503', async () => {
    const answer = await readyz(port);
    return answer.status === 503 ? answer.body : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await readyz(port)).status).toBe(503);
  held.release();
  await waitFor('/readyz back to 200', async () => (await readyz(port)).status === 200, 30_000);
  expect(discord.gatewayLog.some((e) => e.direction === 'in' && e.op === 6)).toBe(true); // RESUME
  return down;
}

function start(file: 'bot/main.ts' | 'bot/shard.ts'): Child {
  bot = spawnProcess(
    file,
    testEnv(db, { BOT_WORKERS: '0', HEALTH_PORT: '0', PRESETS_DIR: asset('styles'), ...chatEnv(fakes) }),
  );
  return bot;
}

describe('npm start', () => {
  it('is ready while its gateway connection is', async () => {
    const child = start('bot/main.ts');
    await fakes.discord.waitForSession(30_000);
    const down = await readinessFollowsTheGateway(await healthPort(child));
    expect(down.reason).toMatch(/Discord gateway is disconnected/);
    await stopProcess(child);
    expect(await child.exited).toBe(0);
  }, 60_000);
});

describe('sharded start', () => {
  it('spawns the recommended shards, which answer interactions; the manager serves Slack, job events and health', async () => {
    const { discord, slack } = fakes;
    const mark = discord.gatewayLog.length;
    const child = start('bot/shard.ts');
    const { output } = child;
    await waitFor('the shard', async () => logLines(output(), 'shard started').length > 0, 30_000);
    await discord.waitForSession(30_000);
    expect(discord.find('GET /gateway/bot')).toBeDefined();
    const identify = discord.gatewayLog.slice(mark).find((e) => e.direction === 'in' && e.op === 2);
    expect((identify?.d as { shard?: number[] } | undefined)?.shard).toEqual([0, 1]);

    const sent = await discord.sendAutocomplete({
      name: 'stylize',
      options: { style: 'scream' },
      focused: 'style',
    });
    expect((await discord.waitForCallback(sent, 10_000)).body).toEqual({
      type: 8,
      data: { choices: [{ name: 'The Scream — Edvard Munch, 1893', value: 'the_scream' }] },
    });

    // Health from the manager: the shards run none of their own.
    const [health] = logLines(output(), 'health server listening');
    expect(health?.name).toBe('discord-shards');
    const port = health!.port as number;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('# TYPE stylize_jobs');

    // Slack: the manager answers its requests and delivers its jobs' events.
    const slackPort = await waitFor('the Slack app', async () => {
      const line = logLines(output(), 'slack app listening')[0];
      return line?.port as number | undefined;
    });
    const member = slackMember(slack, () => `http://127.0.0.1:${slackPort}/slack/events`);
    expect(JSON.stringify(await member.openForm())).toContain('Painting');
    const { job } = await submitJob(core, {
      ...(await request(alice.teamId, alice.userId)),
      server: { platform: 'slack', id: alice.teamId },
      channelId: alice.channelId,
    });
    const lease = (await claimJob(core.db, 'test-worker', core.config.limits, PAINTS_ANY))!;
    expect(lease.jobId).toBe(job.id);
    await finishJob(core, lease);
    const upload = await slack.waitForCall(
      'files.completeUploadExternal',
      (c) => (c.args.files as unknown[]).length === 2,
      30_000,
    );
    expect(upload.args.channel_id).toBe(alice.channelId);
    await waitFor('the delivery recorded', async () => {
      const row = await core.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      return row.deliveredAt !== null;
    });

    const down = await readinessFollowsTheGateway(port);
    expect(down.reason).toMatch(/Discord shards not connected: 0/);

    await stopProcess(child);
    expect(await child.exited).toBe(0);
    expect(output()).not.toContain(discord.token);
  }, 90_000);
});
