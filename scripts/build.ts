/**
 * `npm run build`: compiles the bot, the workers and the CLI to JavaScript in dist/ (or the directory given as
 * the first argument, which must lie inside the project so that node_modules and package.json's
 * `"type": "module"` apply), so that production runs plain `node` with no transpiler. The layout mirrors the
 * sources (bot/main.ts → dist/bot/main.js) and the files the code reads beside itself are copied along, so
 * every `new URL('…', import.meta.url)` finds from dist/ what it finds from the sources (the optimiser's
 * kernels are assembled into it from engine/lbfgs.wat). Expects the Prisma clients in jobs/generated/ (`npm run
 * generate`, which `npm run build` runs first).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Non-TypeScript files the compiled code reads, relative to the project root (and so to dist/). */
const RUNTIME_ASSETS = [
  'prisma/migrations', // jobs/migrate.ts
  'presets/catalogue.json', // presets/catalogue.ts
  'presets/bundled', // presets/bundled.ts
  'package.json', // cli/main.ts (--version)
] as const;

const out = resolve(ROOT, process.argv[2] ?? 'dist');
if (relative(ROOT, out).startsWith('..') || out === ROOT) {
  console.error(`build: the output directory must be inside ${ROOT}, not ${out}`);
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
const compiled = spawnSync(
  process.execPath,
  [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out],
  {
    stdio: 'inherit',
  },
);
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

for (const asset of RUNTIME_ASSETS) cpSync(join(ROOT, asset), join(out, asset), { recursive: true });
// The optimiser's kernels, assembled from engine/lbfgs.wat for engine/vectors.ts.
const kernels = spawnSync(
  process.execPath,
  [join(ROOT, 'scripts/assemble-kernels.js'), join(out, 'engine/lbfgs.wasm')],
  { stdio: 'inherit' },
);
if (kernels.status !== 0) process.exit(kernels.status ?? 1);
console.log(`build: ${relative(ROOT, out) || '.'}/ ready`);
