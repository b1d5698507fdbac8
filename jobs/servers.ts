import { z } from 'zod';
import type { Client, ServerRow, Tx } from './db.ts';
import { UserError } from './errors.ts';

export const PLATFORMS = ['discord', 'slack'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** A Discord guild or a Slack workspace, as the chat adapters name it. */
export interface ServerRef {
  platform: Platform;
  /** The guild id or the workspace (team) id. */
  id: string;
}

/** What members of a platform call the place a job belongs to, for the sentences the core writes them. */
export function placeName(platform: string): 'server' | 'workspace' {
  return platform === 'slack' ? 'workspace' : 'server';
}

const serverRefSchema = z.object({ platform: z.enum(PLATFORMS), id: z.string().min(1).max(64) });

function parseRef(ref: ServerRef): ServerRef {
  const parsed = serverRefSchema.safeParse(ref);
  if (!parsed.success) throw new UserError('invalid-input', 'That request did not come from a known server.');
  return parsed.data;
}

/** The server's row, created with the operator's defaults (all limits null) the first time it is seen. */
export async function ensureServer(prisma: Client | Tx, ref: ServerRef): Promise<ServerRow> {
  const { platform, id } = parseRef(ref);
  const now = new Date();
  // One statement, so two requests from a new server at once cannot both try to create it (Prisma's upsert
  // reads first, which on SQLite can also fail when another process writes in between).
  await prisma.$executeRaw`INSERT INTO "Server" ("platform", "externalId", "createdAt", "updatedAt")
    VALUES (${platform}, ${id}, ${now}, ${now}) ON CONFLICT ("platform", "externalId") DO NOTHING`;
  return prisma.server.findUniqueOrThrow({ where: { platform_externalId: { platform, externalId: id } } });
}

/**
 * The server's row, or null for one never seen (its limits are the operator's defaults, and it has no presets of
 * its own). Reads only: for what is asked at every keystroke (autocomplete, a form's search), which must not write.
 */
export async function findServer(prisma: Client | Tx, ref: ServerRef): Promise<ServerRow | null> {
  const { platform, id } = parseRef(ref);
  return prisma.server.findUnique({ where: { platform_externalId: { platform, externalId: id } } });
}
