import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

const IMAGE_FILE = /\.(jpe?g|png|webp|gif|avif|tiff?)$/i;

/**
 * The operator's presets: image files in a folder, each named after its work (`starry_night.jpg` is the
 * preset `starry_night`). A missing folder simply has none.
 */
export async function presetFiles(dir: string): Promise<Map<string, string>> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return new Map(files.filter((f) => IMAGE_FILE.test(f)).map((f) => [basename(f, extname(f)), join(dir, f)]));
}
