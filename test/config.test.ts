import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('accepts every engine backend for the workers and names the variable when one is wrong', () => {
    expect(loadConfig({ WORKER_BACKEND: 'onnx' }).worker.backend).toBe('onnx');
    expect(loadConfig({}).worker.backend).toBe('auto');
    expect(() => loadConfig({ WORKER_BACKEND: 'gpu-please' })).toThrow(
      /WORKER_BACKEND: must be one of auto, onnx/,
    );
  });

  it('serves only the platforms whose credentials are set', () => {
    const none = loadConfig({});
    expect(none.discord).toBeUndefined();
    expect(none.slack).toBeUndefined();
    const both = loadConfig({
      DISCORD_TOKEN: 'discord-secret',
      DISCORD_APPLICATION_ID: '123456789012345678',
      SLACK_BOT_TOKEN: 'xoxb-secret',
      SLACK_SIGNING_SECRET: 'signing-secret',
    });
    expect(both.discord?.applicationId).toBe('123456789012345678');
    expect(both.slack).toBeDefined();
  });
});
