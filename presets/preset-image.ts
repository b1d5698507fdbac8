import type { Core } from '../jobs/core.ts';
import { findServer, type ServerRef } from '../jobs/servers.ts';
import { loadPreset } from './presets.ts';

/**
 * A preset's image file as stored (the server's own, else the operator's), for the adapters' catalogue
 * thumbnails. Throws a UserError naming the presets there are when there is none by that name.
 */
export async function presetImage(core: Core, server: ServerRef, name: string): Promise<Buffer> {
  return (await loadPreset(core, await findServer(core.db.prisma, server), name)).bytes;
}
