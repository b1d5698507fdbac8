import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Where the weights live unless told otherwise: `$STYLIZE_WEIGHTS_DIR`, else `$XDG_CACHE_HOME/stylize/vgg19`,
 * else `~/.cache/stylize/vgg19`: a per-user cache, so every checkout shares one download. A module of its own,
 * without the downloader (which loads the CLI's progress bar), for the processes that only read the weights.
 */
export function defaultWeightsDir(env: Readonly<Record<string, string | undefined>>): string {
  const home = env.HOME || homedir();
  const explicit = env.STYLIZE_WEIGHTS_DIR;
  if (explicit)
    return resolve(explicit === '~' || explicit.startsWith('~/') ? home + explicit.slice(1) : explicit);
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says a relative $XDG_CACHE_HOME is invalid and must be ignored.
  const cache = xdg && isAbsolute(xdg) ? xdg : join(home, '.cache');
  return join(cache, 'stylize', 'vgg19');
}
