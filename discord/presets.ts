/**
 * /stylize-presets (the catalogue: titles and a contact sheet of thumbnails) and the autocompletion of /stylize's
 * `style`, `size` and `iterations` and of `/stylize-admin preset remove name:`, from the server's choices
 * (chat/preset-choices.ts), so members are offered only what the server allows.
 */
import { type AutocompleteInteraction, type ChatInputCommandInteraction, MessageFlags } from 'discord.js';
import type { RgbImage } from '../lib/engine.ts';
import { contactSheet, decodeImage } from '../lib/images/index.ts';
import { memberReply } from '../lib/member-error.ts';
import { defaultsWithin } from '../lib/request-rules.ts';
import { describePresets, presetImage } from '../rules/index.ts';
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
    const presets = await describePresets(ctx.core, server);
    const items: { image: RgbImage; label: string }[] = [];
    for (const preset of presets.slice(0, MAX_PICTURED)) {
      try {
        const bytes = await presetImage(ctx.core, server, preset.name);
        items.push({ image: await decodeImage(bytes, { maxSide: CELL }), label: preset.label });
      } catch (error) {
        ctx.log.warn(
          { err: safeError(error), server: server.id, preset: preset.name },
          'discord: preset unreadable',
        );
      }
    }
    const spec = render.presetsMessage(
      presets.map((p) => p.label),
      items.length,
    );
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

/**
 * The choices for the focused option: `style` (the server's presets by title, artist or name), `name` of
 * `preset remove` (only the server's own: the bot's presets cannot be removed), `size` and `iterations`
 * (within the server's limits, the defaults marked).
 */
export async function handleAutocomplete(ctx: Context, interaction: AutocompleteInteraction): Promise<void> {
  const focused = interaction.options.getFocused(true);
  const typed = String(focused.value);
  const { presets, limits } = await ctx.choices.get(serverOf(interaction.guildId!));
  const defaults = defaultsWithin(ctx.jobDefaults, limits);
  switch (focused.name) {
    case 'style':
      return interaction.respond(render.presetChoices(presets, typed));
    case 'name':
      return interaction.respond(
        render.presetChoices(
          presets.filter((p) => p.own),
          typed,
        ),
      );
    case 'size':
      return interaction.respond(render.sizeChoices(limits, defaults.size, typed));
    case 'iterations':
      return interaction.respond(render.iterationChoices(limits, defaults.iterations, typed));
    default:
      return interaction.respond([]);
  }
}
