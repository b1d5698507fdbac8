import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { decodeImage, encodeImage } from '../images/index.ts';
import { presetFiles } from '../presets/files.ts';
import { PRESET_NAME } from '../request-rules.ts';
import type { Core } from './core.ts';
import type { ServerRow } from './db.ts';
import { UserError } from './errors.ts';
import { ensureServer, type ServerRef } from './servers.ts';

/**
 * Named paintings: a server's own (added by its admins, stored in the image store) and the operator's (image
 * files in PRESETS_DIR, named after the works). A server's preset hides the operator's of the same name.
 */
/** Presets are kept at this size: enough for the largest style images a job uses. */
export const MAX_STYLE_SIDE = 2048;
const presetNameSchema = z.string().regex(PRESET_NAME.pattern, PRESET_NAME.rule);

/** The preset's image bytes, or a UserError naming the presets there are. */
export async function presetBytes(core: Core, server: ServerRow, name: string): Promise<Buffer> {
  const own = await core.db.prisma.preset.findUnique({
    where: { serverId_name: { serverId: server.id, name } },
  });
  if (own) {
    const image = await core.images.get(own.imageRef);
    if (image) return image.bytes;
  }
  const files = await presetFiles(core.config.presetsDir);
  const file = files.get(name);
  if (file) return readFile(file);
  const known = (await presetNames(core, server)).join(', ') || 'none yet';
  throw new UserError('invalid-input', `There is no painting called "${name}" here (presets: ${known}).`);
}

/** The preset names a member of this server can use, for the adapters' choices and autocompletion. */
export async function listPresets(core: Core, server: ServerRef): Promise<string[]> {
  return presetNames(core, await ensureServer(core.db.prisma, server));
}

async function presetNames(core: Core, server: ServerRow): Promise<string[]> {
  const own = await core.db.prisma.preset.findMany({
    where: { serverId: server.id },
    select: { name: true },
  });
  const files = await presetFiles(core.config.presetsDir);
  return [...new Set([...own.map((p) => p.name), ...files.keys()])].sort();
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

export async function deletePreset(core: Core, server: ServerRow, name: string): Promise<void> {
  const key = { serverId_name: { serverId: server.id, name } };
  const preset = await core.db.prisma.preset.findUnique({ where: key });
  if (!preset) throw new UserError('not-found', `This server has no preset called "${name}".`);
  await core.db.prisma.preset.delete({ where: key });
  await core.images.delete([preset.imageRef]);
}
