import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './job-system.ts';

/** compose.yaml and the Dockerfile, read as data: the deployment the README describes, and no secrets in it. */

interface Service {
  image?: string;
  build?: { context: string; target: string };
  profiles?: string[];
  environment?: Record<string, string>;
  env_file?: unknown;
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  deploy?: { resources?: { reservations?: { devices?: Record<string, unknown>[] } } };
}

const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<'postgres' | 'bot' | 'worker-gpu' | 'worker-cpu', Service>;
  volumes: Record<string, unknown>;
};
const SECRET = /TOKEN|SECRET|PASSWORD|KEY/i;

describe('compose.yaml', () => {
  const { services } = compose;

  it('runs PostgreSQL with a volume and a healthcheck, the bot, a GPU worker and a CPU worker under a profile', () => {
    expect(Object.keys(services).sort()).toEqual(['bot', 'postgres', 'worker-cpu', 'worker-gpu']);
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(services.postgres.volumes).toContain('postgres:/var/lib/postgresql/data');
    expect(JSON.stringify(services.postgres.healthcheck?.test)).toContain('pg_isready');
    expect(services.bot.build?.target).toBe('bot');
    expect(services['worker-gpu'].build?.target).toBe('worker-gpu');
    expect(services['worker-cpu'].build?.target).toBe('worker-cpu');
    expect(services['worker-cpu'].profiles).toEqual(['cpu']);
    expect(services['worker-gpu'].profiles).toBeUndefined();
    expect(services.bot.environment?.BOT_WORKERS).toBe('0');
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres', 'presets', 'weights']);
  });

  it('points every app service at the postgres service, shares weights and presets, and checks /healthz', () => {
    for (const name of ['bot', 'worker-gpu', 'worker-cpu'] as const) {
      const service = services[name];
      expect(service.environment?.DATABASE_URL, name).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
      expect(service.env_file, name).toBeDefined();
      expect(service.volumes, name).toContainEqual(expect.stringMatching(/^presets:\/data\/presets/));
      const test = service.healthcheck?.test;
      expect(Array.isArray(test) && test[0], name).toBe('CMD');
      expect((test as string[]).join(' '), name).toMatch(/fetch\('http:\/\/127\.0\.0\.1:909[01]\/healthz'\)/);
    }
    for (const name of ['worker-gpu', 'worker-cpu'] as const) {
      expect(services[name].volumes, name).toContain('weights:/weights');
    }
  });

  it('reserves one NVIDIA GPU for the GPU worker', () => {
    expect(services['worker-gpu'].deploy?.resources?.reservations?.devices).toEqual([
      { driver: 'nvidia', count: 1, capabilities: ['gpu'] },
    ]);
    expect(services['worker-cpu'].deploy).toBeUndefined();
  });

  it('holds no secret inline: secret-looking variables are only variable references', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (SECRET.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:-[^}]*)?\}$/);
        // A URL's password part is a reference too.
        const password = /^\w+:\/\/[^:@/]+:([^@]+)@/.exec(String(value))?.[1];
        if (password !== undefined) expect(password, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:-[^}]*)?\}$/);
      }
    }
  });
});

interface Stage {
  name: string;
  from: string;
  lines: { instruction: string; args: string }[];
}

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function dockerStages(text: string): Stage[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [instruction = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (instruction.toUpperCase() === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ name: match?.[2] ?? `#${stages.length}`, from: match?.[1] ?? args, lines: [] });
    } else {
      stages.at(-1)?.lines.push({ instruction: instruction.toUpperCase(), args });
    }
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = dockerStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const byName = new Map(stages.map((s) => [s.name, s]));
  /** An instruction's last value in a stage or, if it has none, in the stage it is built FROM. */
  const effective = (stage: Stage, instruction: string): string | undefined => {
    const own = stage.lines.filter((l) => l.instruction === instruction).at(-1);
    if (own) return own.args;
    const parent = byName.get(stage.from);
    return parent ? effective(parent, instruction) : undefined;
  };

  it('has the targets bot, worker-cpu and worker-gpu, each as a non-root user with a /healthz HEALTHCHECK', () => {
    for (const target of ['bot', 'worker-cpu', 'worker-gpu']) {
      const stage = byName.get(target);
      expect(stage, target).toBeDefined();
      const user = effective(stage!, 'USER');
      expect(user, target).toBeDefined();
      expect(user, target).not.toMatch(/^(root|0)(:|$)/);
      const healthcheck = effective(stage!, 'HEALTHCHECK');
      expect(healthcheck, target).toMatch(/CMD node -e .*\/healthz/);
      expect(effective(stage!, 'CMD'), target).toBeDefined();
    }
    expect(effective(byName.get('bot')!, 'HEALTHCHECK')).toContain(':9090/healthz');
    expect(effective(byName.get('worker-gpu')!, 'HEALTHCHECK')).toContain(':9091/healthz');
  });

  it('sets no secret through ENV or ARG', () => {
    const settings = stages
      .flatMap((s) => s.lines)
      .filter((l) => l.instruction === 'ENV' || l.instruction === 'ARG');
    expect(settings.length).toBeGreaterThan(0);
    for (const setting of settings) expect(setting.args).not.toMatch(/TOKEN|SECRET|PASSWORD/i);
  });

  it('keeps .env out of the build context and out of git', () => {
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toContain('.env');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.env');
  });
});
