/**
 * `node --import ./test/record-loads.mjs …` (or in NODE_OPTIONS, so that child processes record too) with
 * RECORD_LOADS=DIR: each process appends to DIR/PID.txt its entry script on the first line, then the URL of every
 * module it loads. ESM loads are seen by a resolve hook (module.register runs it in a thread of its own, which
 * writes synchronously so that nothing is lost when the process exits); CommonJS loads (require() inside a
 * package) are read from require's cache at exit. Plain JavaScript, so that it runs before tsx and in a
 * production build alike. Read back with loadedPackages in test/imports.ts.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

let file;

/** In the hooks thread: where to write, passed from the main thread. */
export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}

if (isMainThread && process.env.RECORD_LOADS) {
  file = join(process.env.RECORD_LOADS, `${process.pid}.txt`);
  appendFileSync(file, `${process.argv[1] ?? ''}\n`);
  register(import.meta.url, { data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(file, Object.keys(cache).join('\n')));
}
