/**
 * How the bot starts its own child processes (worker processes, Discord shards) so that they run the way it
 * runs itself: from the TypeScript sources through tsx's loader (development and tests), or compiled from
 * dist/ as plain JavaScript (`npm start`: production loads no transpiler).
 */
import { fileURLToPath } from 'node:url';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** Node options a child needs to load this project's modules: tsx's loader from the sources, none compiled. */
export const LOADER_ARGS: readonly string[] = FROM_SOURCES ? ['--import', import.meta.resolve('tsx')] : [];

/**
 * The file of an entry point, given relative to `base` (a module's `import.meta.url`) without its extension:
 * `entryPoint('../worker/main', import.meta.url)` is worker/main.ts from the sources, dist/worker/main.js compiled.
 */
export function entryPoint(pathWithoutExtension: string, base: string): string {
  return fileURLToPath(new URL(`${pathWithoutExtension}.${FROM_SOURCES ? 'ts' : 'js'}`, base));
}
