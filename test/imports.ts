import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { ROOT } from './job-system.ts';

/**
 * The project's modules as their source text says they import each other: static imports and re-exports that
 * load a module at run time (`import type` and `export type` left out, as the compiler erases them) and
 * `import()` of a literal path. Paths relative to the project's root; packages by name.
 */
const STATEMENT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * What the file at `path` (from the root) loads, directly: project files and package names; with `types`, also
 * what it imports only for its types (for the direction of dependencies rather than what runs).
 */
export async function importsOf(
  path: string,
  { types = false } = {},
): Promise<{ files: string[]; packages: string[] }> {
  const text = await readFile(join(ROOT, path), 'utf8');
  const specifiers = [
    ...[...text.matchAll(STATEMENT)].filter((m) => types || !m[1]).map((m) => m[2]!),
    ...[...text.matchAll(DYNAMIC)].map((m) => m[1]!),
  ];
  const files: string[] = [];
  const packages: string[] = [];
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) files.push(relative(ROOT, join(dirname(join(ROOT, path)), specifier)));
    else if (!specifier.startsWith('node:')) {
      const parts = specifier.split('/');
      packages.push(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return { files, packages };
}

/** Every project file and package that loading `entry` can load, `entry` included. */
export async function importsFrom(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const path = pending.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    if (!path.endsWith('.ts')) continue;
    const { files, packages } = await importsOf(path);
    for (const name of packages) seen.add(name);
    pending.push(...files.filter((file) => file.endsWith('.ts') && !seen.has(file)));
  }
  return seen;
}

/**
 * What the processes run under test/record-loads.mjs (RECORD_LOADS=`dir`) loaded: for each process, its entry
 * script and the packages (by name, from the node_modules path of each module file) it loaded.
 */
export async function loadedPackages(dir: string): Promise<{ entry: string; packages: Set<string> }[]> {
  const processes = [];
  for (const file of await readdir(dir)) {
    const [entry = '', ...modules] = (await readFile(join(dir, file), 'utf8')).split('\n');
    const packages = new Set<string>();
    for (const module of modules) {
      // The innermost node_modules/NAME/ of the path: the package the file belongs to.
      const name = [...module.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].at(-1)?.[1];
      if (name) packages.add(name);
    }
    processes.push({ entry, packages });
  }
  return processes;
}
