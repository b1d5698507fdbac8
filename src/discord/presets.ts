/**
 * /stylize-presets (the catalogue: names and a contact sheet of thumbnails) and autocompletion of preset names.
 */
import { type AutocompleteInteraction, type ChatInputCommandInteraction, MessageFlags } from 'discord.js';
import { LRUCache } from 'lru-cache';
import type { RgbImage } from '../../worker/engine/image.ts';
import { type Core, listPresets, presetImage } from '../core/index.ts';
import { contactSheet, decodeImage } from '../images/index.ts';
import { memberReply } from '../member-error.ts';
import { type Context, serverOf } from './context.ts';
import { safeError } from './errors.ts';
import * as render from './render.ts';

/** Thumbnails on the catalogue's contact sheet, at most. */
const MAX_PICTURED = 24;
const CELL = 160;

export async function handlePresets(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const server = serverOf(interaction.guildId!);
  try {
    const names = await listPresets(ctx.core, server);
    const pictured = names.slice(0, MAX_PICTURED);
    const items: { image: RgbImage; label: string }[] = [];
    for (const name of pictured) {
      try {
        const bytes = await presetImage(ctx.core, server, name);
        items.push({ image: await decodeImage(bytes, { maxSide: CELL }), label: name });
      } catch (error) {
        ctx.log.warn(
          { err: safeError(error), server: server.id, preset: name },
          'discord: preset unreadable',
        );
      }
    }
    const spec = render.presetsMessage(names, items.length);
    if (items.length > 0) {
      const sheet = await contactSheet(items, { cellSize: CELL, columns: 4, format: 'jpeg' });
      spec.files = [{ name: 'presets.jpg', data: sheet, contentType: 'image/jpeg' }];
    }
    await interaction.editReply(render.toInteractionReply(spec));
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-presets failed');
    }
    await interaction.editReply(render.errorMessage(error));
  }
}

/** `/stylize style:` and `/stylize-admin preset remove name:`: the server's presets matching what was typed. */
export async function handlePresetAutocomplete(
  ctx: Context,
  interaction: AutocompleteInteraction,
): Promise<void> {
  const names = (await ctx.presetNames.fetch(interaction.guildId!)) ?? [];
  await interaction.respond(render.presetChoices(names, String(interaction.options.getFocused())));
}

/**
 * Each server's preset names, kept briefly for autocompletion: Discord asks at every keystroke, and listing them
 * reaches the database each time (recording the server too, a write). An admin's change made through this
 * process drops the server's entry at once; one made elsewhere shows within `ttlMs`.
 */
export function presetNameCache(core: Core, ttlMs = 30_000): LRUCache<string, string[]> {
  return new LRUCache<string, string[]>({
    max: 10_000,
    ttl: ttlMs,
    fetchMethod: (guildId) => listPresets(core, serverOf(guildId)),
  });
}
