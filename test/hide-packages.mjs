/**
 * `node --import ./test/hide-packages.mjs …` (or in NODE_OPTIONS, so that child processes inherit it) with
 * HIDE_PACKAGES=NAME[,NAME…]: importing one of those packages fails as it does where it is not installed
 * (ERR_MODULE_NOT_FOUND), to test how the code takes an optional dependency's absence.
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

let hidden = [];

/** In the hooks thread: the packages to hide, passed from the main thread. */
export function initialize(data) {
  hidden = data.hidden;
}

export async function resolve(specifier, context, nextResolve) {
  if (hidden.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find package '${specifier}' (hidden by test/hide-packages.mjs)`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return nextResolve(specifier, context);
}

if (isMainThread && process.env.HIDE_PACKAGES) {
  register(import.meta.url, { data: { hidden: process.env.HIDE_PACKAGES.split(',') } });
}
