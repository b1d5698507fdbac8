import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBotConfig } from '../bot/bot-config.ts';
import { parseCoreConfig } from '../jobs/config.ts';
import { parseWorkerSettings } from '../worker/config.ts';
import { SHALLOW_WEIGHTS } from './assets.ts';
import { importsFrom } from './imports.ts';
import {
  createTestDatabase,
  healthPort,
  ROOT,
  spawnProcess,
  stopProcess,
  type TestDatabase,
  testEnv,
  waitFor,
} from './job-system.ts';

/** Chat variables no platform would accept: a process that reads them stops at its start. */
const GARBAGE_CHAT = {
  SLACK_SIGNING_SECRET: 's',
  SLACK_APP_TOKEN: 'not-an-app-token',
  SLACK_PORT: 'many',
  DISCORD_APPLICATION_ID: 'garbage',
  DISCORD_PROGRESS_EDIT_MS: '-1',
};

describe('configuration by role', () => {
  it('accepts every engine backend for the workers and names the variable when one is wrong', () => {
    expect(parseWorkerSettings({ WORKER_BACKEND: 'onnx' }).backend).toBe('onnx');
    expect(parseWorkerSettings({}).backend).toBe('auto');
    expect(() => parseWorkerSettings({ WORKER_BACKEND: 'gpu-please' })).toThrow(
      /WORKER_BACKEND: must be one of auto, onnx/,
    );
  });

  it('serves only the platforms whose credentials are set', () => {
    const none = loadBotConfig({});
    expect(none.discord).toBeUndefined();
    expect(none.slack).toBeUndefined();
    const both = loadBotConfig({
      DISCORD_TOKEN: 'discord-secret',
      DISCORD_APPLICATION_ID: '123456789012345678',
      SLACK_BOT_TOKEN: 'xoxb-secret',
      SLACK_SIGNING_SECRET: 'signing-secret',
    });
    expect(both.discord?.applicationId).toBe('123456789012345678');
    expect(both.slack).toBeDefined();
    expect(() => loadBotConfig(GARBAGE_CHAT)).toThrow(/invalid configuration/);
  });

  it('reads the operator’s defaults for paintings, the same for Discord, Slack and the CLI, naming a wrong one', () => {
    expect(parseCoreConfig({}).jobDefaults).toEqual({
      layers: 'auto',
      size: 384,
      iterations: 300,
      strength: 50,
    });
    const set = loadBotConfig({
      STYLIZE_LAYERS: 'shallow',
      STYLIZE_SIZE: '256',
      STYLIZE_ITERATIONS: '120',
      STYLIZE_STRENGTH: '65',
      SLACK_BOT_TOKEN: 'xoxb-secret',
      SLACK_SIGNING_SECRET: 'signing-secret',
    });
    expect(set.core.jobDefaults).toEqual({ layers: 'shallow', size: 256, iterations: 120, strength: 65 });
    expect(set.slack?.jobDefaults).toEqual(set.core.jobDefaults);
    expect(() => parseCoreConfig({ STYLIZE_LAYERS: 'deep' })).toThrow(
      /STYLIZE_LAYERS: must be one of auto, paper, shallow/,
    );
    expect(() => parseCoreConfig({ STYLIZE_SIZE: '9000' })).toThrow(/STYLIZE_SIZE/);
    expect(() => parseCoreConfig({ STYLIZE_STRENGTH: '101' })).toThrow(/STYLIZE_STRENGTH/);
  });

  it('keeps the weights downloader and its progress bar out of the bot’s processes', async () => {
    for (const entry of ['bot/main.ts', 'bot/shard.ts']) {
      const modules = await importsFrom(entry);
      expect(modules.has('cli/weights/download.ts'), entry).toBe(false);
      expect(modules.has('cli-progress'), entry).toBe(false);
      expect([...modules].filter((m) => m === 'worker/config.ts' || m.startsWith('engine/onnx/'))).toEqual(
        [],
      );
    }
  });
});

describe('a worker and the CLI with the chat variables set to garbage', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('the worker process starts and is ready', async () => {
    const worker = spawnProcess('worker/main.ts', testEnv(db, { WORKER_BACKEND: 'onnx', ...GARBAGE_CHAT }));
    try {
      const port = await healthPort(worker);
      await waitFor('the worker to be ready', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return response?.status === 200;
      });
    } finally {
      await stopProcess(worker);
    }
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toContain('invalid configuration');
  }, 60_000);

  it('`stylize weights status` answers', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/stylize.js', 'weights', 'status', '--json'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          STYLIZE_WEIGHTS_DIR: SHALLOW_WEIGHTS,
          ...GARBAGE_CHAT,
        },
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({
      installed: true,
      layers: expect.arrayContaining(['block1_conv1']),
    });
  }, 60_000);
});
