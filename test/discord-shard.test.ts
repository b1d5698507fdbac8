/**
 * `npm run start:sharded` (src/discord/shard.ts) against the fake Discord: the manager asks for the
 * recommended shard count, spawns the shard process, which identifies as shard [0, 1] and answers
 * interactions; SIGTERM stops them all.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommands } from '../commands/register.ts';
import { asset } from './assets.ts';
import { FakeDiscord } from './discord/fake-discord.ts';
import { createTestDatabase, ROOT, type TestDatabase, testEnv } from './job-system.ts';

let fake: FakeDiscord;
let db: TestDatabase;

beforeAll(async () => {
  fake = await FakeDiscord.start();
  await registerCommands({
    token: fake.token,
    applicationId: fake.applicationId,
    apiUrl: fake.apiUrl,
    guildId: fake.guildId,
  });
  db = await createTestDatabase('sqlite');
});

afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

describe('sharded start', () => {
  it('spawns the recommended shards, which answer interactions', async () => {
    const env = testEnv(db, {
      BOT_WORKERS: '0',
      PRESETS_DIR: asset('styles'),
      DISCORD_TOKEN: fake.token,
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
      DISCORD_CDN_URL: fake.cdnUrl,
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/discord/shard.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await fake.waitForSession(30_000);
      expect(fake.find('GET /gateway/bot')).toBeDefined();
      const identify = fake.gatewayLog.find((e) => e.direction === 'in' && e.op === 2);
      expect((identify?.d as { shard?: number[] } | undefined)?.shard).toEqual([0, 1]);

      const sent = await fake.sendAutocomplete({
        name: 'stylize',
        options: { style: 'scream' },
        focused: 'style',
      });
      expect((await fake.waitForCallback(sent, 10_000)).body).toEqual({
        type: 8,
        data: { choices: [{ name: 'The Scream — Edvard Munch, 1893', value: 'the_scream' }] },
      });
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(output).toContain('"msg":"shard started"');
    expect(output).not.toContain(fake.token);
  }, 60_000);
});
