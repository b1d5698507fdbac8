/**
 * `node scripts/assemble-kernels.js [OUT]`: assembles the optimiser's SIMD kernels, engine/lbfgs.wat, into the
 * WebAssembly binary that engine/vectors.ts reads beside itself (default OUT: engine/lbfgs.wasm, git-ignored).
 * `npm run generate` (npm's postinstall, and the first step of `npm run build`) writes it for the sources, as it
 * writes the Prisma clients; scripts/build.ts writes it again into dist/engine/. wabt, the assembler, is a dev
 * dependency: no process assembles at its start.
 *
 * Plain JavaScript, for the same reason as prisma/generate.js: where only production dependencies are installed
 * npm may still run postinstall, which then has nothing to do (dist/ holds the binary).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'engine/lbfgs.wat');
const out = resolve(process.argv[2] ?? join(root, 'engine/lbfgs.wasm'));

let initWabt;
try {
  initWabt = (await import('wabt')).default;
} catch {
  if (process.env.npm_lifecycle_event === 'postinstall') {
    console.log('assemble-kernels: wabt is not installed (production install): using dist/engine/lbfgs.wasm');
    process.exit(0);
  }
  console.error('assemble-kernels: wabt is not installed; run `npm ci` (with dev dependencies) first');
  process.exit(1);
}

const wabt = await initWabt();
const parsed = wabt.parseWat('lbfgs.wat', readFileSync(source, 'utf8'), { simd: true, multi_value: true });
try {
  parsed.validate();
  writeFileSync(out, parsed.toBinary({}).buffer);
} finally {
  parsed.destroy();
}
