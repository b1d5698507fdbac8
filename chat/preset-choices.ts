import { LRUCache } from 'lru-cache';
import type { RequestLimits } from '../lib/request-rules.ts';
import {
  type Core,
  describePresets,
  type PresetInfo,
  requestLimits,
  type ServerRef,
} from '../rules/index.ts';

/**
 * What both adapters' forms offer a member of one server: its presets, found by what the member types, and its
 * limits on a request's options.
 */

/** Lower case, without accents: "Édouard" → "edouard". */
const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
/** Folded, letters and digits only, so spaces, `_`, `-` and punctuation never matter: "Starry N" → "starryn". */
const squash = (text: string) => fold(text).replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * The presets matching what a member typed, by title, artist, year or name, ignoring case, accents, spaces and
 * separators; those whose name or label starts with it first, then those with a word that does, then the rest
 * containing it; each group in label order. At most `max`.
 */
export function matchPresets(presets: readonly PresetInfo[], typed: string, max: number): PresetInfo[] {
  const query = squash(typed);
  const ranked: { preset: PresetInfo; rank: number }[] = [];
  for (const preset of presets) {
    const label = squash(preset.label);
    const name = squash(preset.name);
    let rank: number | undefined;
    if (label.startsWith(query) || name.startsWith(query)) rank = 0;
    else if (wordStarts(preset.label).some((rest) => rest.startsWith(query))) rank = 1;
    else if (label.includes(query) || name.includes(query)) rank = 2;
    if (rank !== undefined) ranked.push({ preset, rank });
  }
  return ranked
    .sort(
      (a, b) =>
        a.rank - b.rank || a.preset.label.localeCompare(b.preset.label, 'en', { sensitivity: 'base' }),
    )
    .slice(0, max)
    .map((r) => r.preset);
}

/** Each word of `label` with what follows it, squashed: "Van Gogh" → ["vangogh", "gogh"]. */
function wordStarts(label: string): string[] {
  const words = fold(label)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  return words.map((_, i) => words.slice(i).join(''));
}

/**
 * The preset a member named by typing rather than picking: the name itself, else the one preset whose label is
 * exactly what was typed, else the only one matching it. Undefined when none or several fit (the core's refusal
 * then names the presets there are).
 */
export function resolvePreset(presets: readonly PresetInfo[], typed: string): string | undefined {
  const trimmed = typed.trim();
  if (presets.some((p) => p.name === trimmed)) return trimmed;
  const exact = presets.filter((p) => squash(p.label) === squash(trimmed));
  if (exact.length === 1) return exact[0]!.name;
  const matches = matchPresets(presets, trimmed, 2);
  return matches.length === 1 ? matches[0]!.name : undefined;
}

export interface ServerChoices {
  presets: PresetInfo[];
  limits: RequestLimits;
}

/**
 * Each server's choices, kept briefly: Discord asks at every keystroke of an autocompleted option, Slack for
 * every search in an external select, and reading them reaches the database each time (recording the server
 * too, a write). An admin's change made through this process drops the server's entry at once (`delete`); one
 * made elsewhere shows within `ttlMs`.
 */
export interface ServerChoiceCache {
  get(server: ServerRef): Promise<ServerChoices>;
  /** Drops a server's entry (after its admins changed its presets or limits). */
  delete(server: ServerRef): void;
}

export function serverChoiceCache(core: Core, ttlMs = 30_000): ServerChoiceCache {
  const cache = new LRUCache<string, ServerChoices, ServerRef>({
    max: 10_000,
    ttl: ttlMs,
    fetchMethod: async (_key, _stale, { context: server }) => ({
      presets: await describePresets(core, server),
      limits: await requestLimits(core, server, core.config.jobDefaults),
    }),
  });
  const key = (server: ServerRef) => `${server.platform}:${server.id}`;
  return {
    get: async (server) => (await cache.fetch(key(server), { context: server }))!,
    delete: (server) => void cache.delete(key(server)),
  };
}
