#!/usr/bin/env node
// `npx stylize`. In a development checkout (the TypeScript sources and tsx, a dev dependency, both present)
// it runs the sources through tsx, so edits need no build step; installed for production (`npm run build`,
// dev dependencies omitted) it runs the compiled JavaScript in dist/ with no transpiler.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../cli/main.ts', import.meta.url);

/** Whether tsx can be loaded from here (import.meta.resolve throws for a package that is not installed). */
function hasTsx() {
  try {
    import.meta.resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(fileURLToPath(source)) && hasTsx()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
