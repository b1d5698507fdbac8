import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Core } from '../jobs/core.ts';
import type { ServerRow } from '../jobs/db.ts';
import { UserError } from '../jobs/errors.ts';
import { findServer, placeName, type ServerRef } from '../jobs/servers.ts';
import { decodeImage, encodeImage } from '../lib/images/index.ts';
import { PRESET_NAME } from '../lib/request-rules.ts';
import { loadCatalogue, paintingTitle } from './catalogue.ts';
import { presetFiles } from './files.ts';

/**
 * Named paintings: a server's own (added by its admins, stored in the image store) and the operator's (image
 * files in PRESETS_DIR, named after the works). A server's preset hides the operator's of the same name.
 * Members see the operator's catalogue paintings by title (presets/catalogue.json), the rest by name.
 */
/** Presets are kept at this size: enough for the largest style images a job uses. */
export const MAX_STYLE_SIDE = 2048;
const presetNameSchema = z.string().regex(PRESET_NAME.pattern, PRESET_NAME.rule);

/** A preset as members pick it. */
export interface PresetInfo {
  /** What /stylize takes: the file's name without extension, or the server's own name for it. */
  name: string;
  /** What members read: "The Starry Night — Vincent van Gogh, 1889" for a catalogue painting, else the name. */
  label: string;
  /** One of the server's own (its admins can remove it), rather than one the bot's operator installed. */
  own: boolean;
}

/**
 * A server as the preset lookups take it: its row, or null for a server never seen (it has no presets of its
 * own), so that listing them writes nothing.
 */
type Seen = ServerRow | null;

/** The preset's image bytes and its label, or a UserError naming the presets there are. */
export async function loadPreset(
  core: Core,
  server: Seen,
  name: string,
): Promise<{ bytes: Buffer; label: string }> {
  const own = await ownPreset(core, server, name);
  if (own) {
    const image = await core.images.get(own.imageRef);
    if (image) return { bytes: image.bytes, label: name };
  }
  const file = (await presetFiles(core.config.presetsDir)).get(name);
  if (file) return { bytes: await readFile(file), label: await operatorLabel(core, name) };
  throw await noSuchPreset(core, server, name);
}

/** Throws the UserError of {@link loadPreset} when the server has no preset called `name`; reads no image. */
export async function requirePreset(core: Core, server: Seen, name: string): Promise<void> {
  if (await ownPreset(core, server, name)) return;
  if ((await presetFiles(core.config.presetsDir)).has(name)) return;
  throw await noSuchPreset(core, server, name);
}

/** The preset names a member of this server can use; reads only. */
export async function listPresets(core: Core, server: ServerRef): Promise<string[]> {
  return presetNames(core, await findServer(core.db.prisma, server));
}

/** The presets a member of this server can use, with their labels, in the order of the labels; reads only. */
export async function describePresets(core: Core, server: ServerRef): Promise<PresetInfo[]> {
  const row = await findServer(core.db.prisma, server);
  const own = new Set(await ownNames(core, row));
  const titles = await catalogueTitles(core);
  const files = [...(await presetFiles(core.config.presetsDir)).keys()].filter((name) => !own.has(name));
  return [
    ...[...own].map((name) => ({ name, label: name, own: true })),
    ...files.map((name) => ({ name, label: titles.get(name) ?? name, own: false })),
  ].sort((a, b) => a.label.localeCompare(b.label, 'en', { sensitivity: 'base' }));
}

async function presetNames(core: Core, server: Seen): Promise<string[]> {
  const files = await presetFiles(core.config.presetsDir);
  return [...new Set([...(await ownNames(core, server)), ...files.keys()])].sort();
}

async function ownNames(core: Core, server: Seen): Promise<string[]> {
  if (!server) return [];
  const own = await core.db.prisma.preset.findMany({
    where: { serverId: server.id },
    select: { name: true },
  });
  return own.map((p) => p.name);
}

async function ownPreset(core: Core, server: Seen, name: string) {
  if (!server) return null;
  return core.db.prisma.preset.findUnique({ where: { serverId_name: { serverId: server.id, name } } });
}

async function noSuchPreset(core: Core, server: Seen, name: string): Promise<UserError> {
  const known = (await presetNames(core, server)).join(', ') || 'none yet';
  return new UserError('not-found', `There is no painting called "${name}" here (presets: ${known}).`);
}

async function operatorLabel(core: Core, name: string): Promise<string> {
  return (await catalogueTitles(core)).get(name) ?? name;
}

let titles: Promise<Map<string, string>> | undefined;

/** The catalogue's titles by id, read once per process; none (and a warning) if it cannot be read. */
function catalogueTitles(core: Core): Promise<Map<string, string>> {
  titles ??= loadCatalogue().then(
    (catalogue) => new Map(catalogue.paintings.map((p) => [p.id, paintingTitle(p)])),
    (error: unknown) => {
      core.log.warn({ err: String(error) }, 'presets: the catalogue could not be read; presets show by name');
      return new Map<string, string>();
    },
  );
  return titles;
}

/** Adds or replaces one of the server's own presets (an admin operation: see admin.ts). */
export async function savePreset(
  core: Core,
  server: ServerRow,
  name: string,
  bytes: Buffer,
  by: string,
): Promise<void> {
  const parsed = presetNameSchema.safeParse(name);
  if (!parsed.success) throw new UserError('invalid-input', parsed.error.issues[0]!.message);
  const image = await decodeImage(bytes, { maxSide: MAX_STYLE_SIDE });
  const imageRef = await core.images.put({ mime: 'image/png', bytes: await encodeImage(image, 'png') });
  const key = { serverId_name: { serverId: server.id, name: parsed.data } };
  const previous = await core.db.prisma.preset.findUnique({ where: key });
  await core.db.prisma.preset.upsert({
    where: key,
    create: { serverId: server.id, name: parsed.data, imageRef, createdBy: by },
    update: { imageRef, createdBy: by },
  });
  if (previous) await core.images.delete([previous.imageRef]);
}

/**
 * Removes one of the server's own presets. The operator's are files that come with the bot: a server cannot
 * remove them (its admins can only hide one under a preset of their own), and the refusal says so.
 */
export async function deletePreset(core: Core, server: ServerRow, name: string): Promise<void> {
  const key = { serverId_name: { serverId: server.id, name } };
  const preset = await core.db.prisma.preset.findUnique({ where: key });
  const place = placeName(server.platform);
  if (!preset) {
    if ((await presetFiles(core.config.presetsDir)).has(name)) {
      throw new UserError(
        'forbidden',
        `"${name}" comes with the bot: the people running it installed it, so a ${place} can’t remove it. ` +
          `A preset of this ${place}’s own called "${name}" would replace it here.`,
      );
    }
    throw new UserError('not-found', `This ${place} has no preset called "${name}".`);
  }
  await core.db.prisma.preset.delete({ where: key });
  await core.images.delete([preset.imageRef]);
}
