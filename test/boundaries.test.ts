import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf } from './imports.ts';
import { ROOT } from './job-system.ts';

/**
 * The directions the dependencies point in, read from the sources (type imports included). Each top-level
 * folder is one role; ROLES says what each may import of the others: a folder (`lib/`, any of its files) or
 * one file (an entry such as `rules/index.ts`). A file may always import its own folder.
 */
const ROLES: Record<string, readonly string[]> = {
  /** The optimisation itself: a leaf. */
  engine: [],
  /** Shared infrastructure; the engine only through lib/engine.ts (checked below). */
  lib: ['engine/'],
  /** The job system's mechanics: the queue, the claim, leases, the outbox. */
  jobs: ['lib/'],
  presets: ['jobs/', 'lib/'],
  /** The bot's rules on the job system: quotas, submitting, variations, admin, history. */
  rules: ['jobs/', 'presets/', 'lib/'],
  chat: ['rules/index.ts', 'presets/index.ts', 'lib/'],
  discord: ['rules/index.ts', 'presets/index.ts', 'chat/', 'lib/'],
  slack: ['rules/index.ts', 'presets/index.ts', 'chat/', 'lib/'],
  /** The bot's process: it composes the adapters and the rules; it starts workers by path, never imports them. */
  bot: ['jobs/', 'rules/', 'presets/', 'chat/', 'discord/', 'slack/', 'lib/'],
  /** The worker's process: the engine, and the job system through the worker's entry. */
  worker: ['engine/', 'jobs/worker-api.ts', 'presets/index.ts', 'lib/'],
  /** The `stylize` CLI: the engine, the catalogue without a database, and the job defaults and layer settings it shares with the worker. */
  cli: [
    'engine/',
    'jobs/worker-api.ts',
    'presets/catalogue.ts',
    'presets/files.ts',
    'presets/bundled.ts',
    'worker/capability.ts',
    'lib/',
  ],
};

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.startsWith('generated/'))
    .map((file) => relative(ROOT, join(ROOT, dir, file)));
}

/** `from -> to` for each import of a file under `dir` into the project that `allowed` refuses. */
async function crossings(dir: string, allowed: (from: string, to: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  for (const from of sources(dir)) {
    for (const to of (await importsOf(from, { types: true })).files) {
      if (!allowed(from, to)) found.push(`${from} -> ${to}`);
    }
  }
  return found.sort();
}

const roleOf = (path: string) => path.split('/')[0]!;
const reaches = (entries: readonly string[], to: string) =>
  entries.some((entry) => (entry.endsWith('/') ? to.startsWith(entry) : to === entry));

const ENGINE = 'engine/';
/** The roles of the bot's process, which loads no ML runtime. */
const BOT_SIDE = ['lib', 'jobs', 'presets', 'rules', 'chat', 'discord', 'slack', 'bot'];

describe('dependency directions', () => {
  it('every top-level folder of sources is a role of the map', () => {
    const folders = readdirSync(ROOT, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .filter(
        (name) =>
          !['node_modules', 'dist', 'test', 'bench', 'scripts', 'prisma', 'docs', 'bin'].includes(name),
      )
      .filter((name) => sources(name).length > 0);
    expect(folders.sort()).toEqual(Object.keys(ROLES).sort());
  });

  it('each role imports only the roles and entries its map allows', async () => {
    for (const [role, entries] of Object.entries(ROLES)) {
      const refused = await crossings(role, (_, to) => roleOf(to) === role || reaches(entries, to));
      expect(refused, role).toEqual([]);
    }
  });

  it('no import cycle between top-level folders', async () => {
    const edges = new Map<string, Set<string>>();
    for (const role of Object.keys(ROLES)) {
      const out = new Set<string>();
      for (const from of sources(role)) {
        for (const to of (await importsOf(from, { types: true })).files) {
          if (roleOf(to) !== role) out.add(roleOf(to));
        }
      }
      edges.set(role, out);
    }
    const cycles: string[] = [];
    const visit = (role: string, path: string[]) => {
      for (const next of edges.get(role) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else visit(next, [...path, next]);
      }
    };
    for (const role of edges.keys()) visit(role, [role]);
    expect(cycles).toEqual([]);
  });

  it('the engine is a leaf: it imports nothing of the bot or the worker', async () => {
    expect(await crossings(ENGINE, (_, to) => to.startsWith(ENGINE))).toEqual([]);
  });

  it('the worker reaches the job system only through its worker API', async () => {
    const deep = await crossings(
      'worker',
      (_, to) => !(to.startsWith('jobs/') || to.startsWith('rules/')) || to === 'jobs/worker-api.ts',
    );
    expect(deep).toEqual([]);
  });

  it('the chat adapters reach the rules only through their index, and the job system not at all', async () => {
    for (const dir of ['discord', 'slack', 'chat']) {
      const deep = await crossings(
        dir,
        (_, to) => !(to.startsWith('rules/') || to.startsWith('jobs/')) || to === 'rules/index.ts',
      );
      expect(deep, dir).toEqual([]);
    }
  });

  it('the bot’s side reaches the engine through lib/engine.ts alone, and the worker’s processes not at all', async () => {
    for (const dir of BOT_SIDE) {
      const engine = await crossings(
        dir,
        (from, to) =>
          !(to.startsWith('worker/') || to.startsWith('cli/') || to.startsWith(ENGINE)) ||
          from === 'lib/engine.ts',
      );
      expect(engine, dir).toEqual([]);
    }
    const intoEngine = (await importsOf('lib/engine.ts', { types: true })).files;
    expect(intoEngine.every((to) => to.startsWith(ENGINE))).toBe(true);
  });
});
