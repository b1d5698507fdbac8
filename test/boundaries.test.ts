import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf } from './imports.ts';
import { ROOT } from './job-system.ts';

/**
 * The directions the dependencies point in, read from the sources (type imports included): the engine a leaf,
 * the worker on the core's public entry, the bot's side on the engine through one module.
 */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
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

const ENGINE = 'engine/';
const CORE_ENTRIES = ['src/core/index.ts', 'src/core/worker-api.ts'];

describe('dependency directions', () => {
  it('the engine is a leaf: it imports nothing of the bot or the worker', async () => {
    expect(await crossings(ENGINE, (_, to) => to.startsWith(ENGINE))).toEqual([]);
  });

  it('the worker reaches the core only through its public entries', async () => {
    const deep = await crossings(
      'worker',
      (_, to) => !to.startsWith('src/core/') || CORE_ENTRIES.includes(to),
    );
    expect(deep).toEqual([]);
  });

  it('the chat adapters reach the core only through its index', async () => {
    for (const dir of ['src/discord', 'src/slack', 'src/chat']) {
      const deep = await crossings(dir, (_, to) => !to.startsWith('src/core/') || to === 'src/core/index.ts');
      expect(deep, dir).toEqual([]);
    }
  });

  it('the bot’s side reaches the engine through src/engine.ts alone, and the worker’s processes not at all', async () => {
    const engine = await crossings(
      'src',
      (from, to) => !(to.startsWith('worker/') || to.startsWith(ENGINE)) || from === 'src/engine.ts',
    );
    expect(engine).toEqual([]);
    const intoEngine = (await importsOf('src/engine.ts', { types: true })).files;
    expect(intoEngine.every((to) => to.startsWith(ENGINE))).toBe(true);
  });
});
