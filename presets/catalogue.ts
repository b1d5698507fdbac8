import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { hasImageExtension } from '../lib/images/formats.ts';
import { PRESET_NAME } from '../lib/request-rules.ts';

/** presets/catalogue.json: the public-domain paintings `stylize presets setup` installs. */
export const CATALOGUE_PATH = fileURLToPath(new URL('./catalogue.json', import.meta.url));

const paintingSchema = z.object({
  /** The preset name and file name (`starry_night` is installed as `starry_night.jpg`). */
  id: z.string().regex(PRESET_NAME.pattern),
  title: z.string().min(1),
  artist: z.string().min(1),
  year: z.string().min(1),
  /**
   * What `stylize presets setup` downloads: a size-limited rendition of the painting (a Wikimedia Commons
   * thumbnail of a standard width), never the original, which can be hundreds of megabytes.
   */
  source: z
    .url({ protocol: /^https$/ })
    .refine(
      isRendition,
      'must be a size-limited rendition (…/thumb/…/<width>px-<file>), not the original file',
    ),
  licence: z.string().min(1),
  /** The strength (0-100) that suits the painting. */
  strength: z.number().int().min(0).max(100),
  /** The file's sha256 when known ahead of time; null: trusted on first use. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .default(null),
});

/**
 * Whether a URL is a size-limited rendition in Wikimedia's thumbnail scheme: `…/thumb/a/ab/<file>/<width>px-<file>`
 * (https://www.mediawiki.org/wiki/Common_thumbnail_sizes lists the widths Commons serves).
 */
export function isRendition(url: string): boolean {
  return /\/thumb\/[0-9a-f]\/[0-9a-f]{2}\/([^/]+)\/\d+px-\1$/.test(new URL(url).pathname);
}

export const catalogueSchema = z
  .object({
    note: z.string().optional(),
    paintings: z.array(paintingSchema).min(1),
  })
  .refine((c) => new Set(c.paintings.map((p) => p.id)).size === c.paintings.length, {
    message: 'catalogue ids must be unique',
  });

export type CataloguePainting = z.infer<typeof paintingSchema>;
export type Catalogue = z.infer<typeof catalogueSchema>;

/** Reads and validates the catalogue (the repository's own by default). */
export async function loadCatalogue(path: string = CATALOGUE_PATH): Promise<Catalogue> {
  const text = await readFile(path, 'utf8');
  const parsed = catalogueSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues[0]?.message ?? 'invalid catalogue'}`);
  return parsed.data;
}

/** How members see a painting: "The Starry Night — Vincent van Gogh, 1889". */
export function paintingTitle(painting: Pick<CataloguePainting, 'title' | 'artist' | 'year'>): string {
  return `${painting.title} — ${painting.artist}, ${painting.year}`;
}

let strengths: Promise<Map<string, number>> | undefined;

/**
 * The strength a request defaults to when every painting in it is a catalogue preset: their recommended
 * strengths averaged by blend weight, rounded; undefined when any is not (an uploaded painting, a name the
 * catalogue does not know), so the general default applies.
 */
export async function recommendedStrength(
  styles: readonly { preset?: string | undefined; weight?: number | undefined }[],
): Promise<number | undefined> {
  strengths ??= loadCatalogue().then((c) => new Map(c.paintings.map((p) => [p.id, p.strength])));
  // The catalogue ships with the code; were it unreadable, requests would still be accepted, at the default.
  const known = await strengths.catch(() => {
    strengths = undefined;
    return new Map<string, number>();
  });
  let [sum, total] = [0, 0];
  for (const { preset, weight = 1 } of styles) {
    const strength = preset === undefined ? undefined : known.get(preset);
    if (strength === undefined) return undefined;
    sum += weight * strength;
    total += weight;
  }
  return total > 0 ? Math.round(sum / total) : undefined;
}

/** The file extension a painting is installed with: its source's, `.jpg` when that has none. */
export function paintingExtension(painting: CataloguePainting): string {
  const ext = extname(new URL(painting.source).pathname).toLowerCase();
  if (!hasImageExtension(ext)) return '.jpg';
  return ext === '.jpeg' ? '.jpg' : ext;
}
