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

  it('reads the operator’s defaults for paintings, the same for Discord, Slack and the CLI, naming a wrong one', () => {
    expect(loadConfig({}).jobDefaults).toEqual({ layers: 'auto', size: 384, iterations: 300, strength: 50 });
    const set = loadConfig({
      STYLIZE_LAYERS: 'shallow',
      STYLIZE_SIZE: '256',
      STYLIZE_ITERATIONS: '120',
      STYLIZE_STRENGTH: '65',
      SLACK_BOT_TOKEN: 'xoxb-secret',
      SLACK_SIGNING_SECRET: 'signing-secret',
    });
    expect(set.jobDefaults).toEqual({ layers: 'shallow', size: 256, iterations: 120, strength: 65 });
    expect(set.slack?.jobDefaults).toEqual(set.jobDefaults);
    expect(() => loadConfig({ STYLIZE_LAYERS: 'deep' })).toThrow(
      /STYLIZE_LAYERS: must be one of auto, paper, shallow/,
    );
    expect(() => loadConfig({ STYLIZE_SIZE: '9000' })).toThrow(/STYLIZE_SIZE/);
    expect(() => loadConfig({ STYLIZE_STRENGTH: '101' })).toThrow(/STYLIZE_STRENGTH/);
  });
});
