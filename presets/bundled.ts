import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { PRESET_NAME } from '../lib/request-rules.ts';
import { presetFiles } from './files.ts';

/**
 * The paintings that come with the project (presets/bundled/): small renditions of public-domain paintings, so
 * that a new bot offers paintings with nothing downloaded. They are copied into an empty presets folder; from
 * then on they are operator presets like any other file there.
 */
export const BUNDLED_DIR = fileURLToPath(new URL('./bundled/', import.meta.url));

const bundledSchema = z.object({
  paintings: z.array(
    z.object({
      id: z.string().regex(PRESET_NAME.pattern),
      /** The file in presets/bundled/, installed under the same name. */
      file: z.string().regex(/^[\w-]+\.(jpg|png)$/),
      title: z.string().min(1),
      artist: z.string().min(1),
      year: z.string().min(1),
      /** What the rendition was made from. */
      source: z.string().min(1),
      licence: z.string().min(1),
    }),
  ),
});
export type BundledPainting = z.infer<typeof bundledSchema>['paintings'][number];

/** The bundled paintings' metadata (presets/bundled/paintings.json). Throws when it is missing or invalid. */
export async function loadBundled(dir: string = BUNDLED_DIR): Promise<BundledPainting[]> {
  const path = join(dir, 'paintings.json');
  const parsed = bundledSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.paintings;
}

/**
 * Copies the bundled paintings into the presets folder `dir` (created if need be) when it holds no preset, each
 * file written whole (a temporary file renamed into place, so a process reading the folder at the same time
 * never sees half a file). Returns the ids installed: none when the folder already held presets, which are
 * left as they are. Throws when the folder cannot be written.
 */
export async function installBundledPresets(dir: string, from: string = BUNDLED_DIR): Promise<string[]> {
  if ((await presetFiles(dir)).size > 0) return [];
  await mkdir(dir, { recursive: true });
  const paintings = await loadBundled(from);
  for (const painting of paintings) {
    await writeFileAtomic(join(dir, painting.file), await readFile(join(from, painting.file)));
  }
  return paintings.map((p) => p.id);
}
