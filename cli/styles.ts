import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { installBundledPresets } from '../presets/bundled.ts';
import { presetFiles } from '../presets/files.ts';

/**
 * A `--style` value is an image path, or the name of a painting in the presets folder (file name without
 * its extension, e.g. `starry_night`; an empty folder gets the bundled paintings first). Several are separated by
 * commas.
 */
export async function resolveStyles(
  spec: string,
  presetsDir: string,
): Promise<{ name: string; bytes: Buffer; preset?: string }[]> {
  return Promise.all(spec.split(',').map((s) => resolveStyle(s.trim(), presetsDir)));
}

async function resolveStyle(
  value: string,
  presetsDir: string,
): Promise<{ name: string; bytes: Buffer; preset?: string }> {
  try {
    return { name: basename(value, extname(value)), bytes: await readFile(value) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await installBundledPresets(presetsDir);
  const presets = await presetFiles(presetsDir);
  const file = presets.get(value);
  if (!file) {
    const known = [...presets.keys()].join(', ') || `none installed in ${presetsDir}`;
    throw new Error(
      `style "${value}" is neither an image file nor a preset (presets: ${known}); ` +
        "`stylize presets setup` installs the catalogue's paintings, `stylize presets list` lists them",
    );
  }
  return { name: value, bytes: await readFile(file), preset: value };
}
