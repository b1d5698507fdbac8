import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { hasImageExtension } from '../lib/images/formats.ts';

/**
 * The operator's presets: image files in a folder, each named after its work (`starry_night.jpg` is the
 * preset `starry_night`). A missing folder simply has none.
 */
export async function presetFiles(dir: string): Promise<Map<string, string>> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return new Map(files.filter(hasImageExtension).map((f) => [basename(f, extname(f)), join(dir, f)]));
}
