/**
 * /stylize-presets: the catalogue of preset paintings this server can use, as titles and a contact sheet of
 * thumbnails, to the member alone. The reply is deferred before anything is read.
 */
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from 'discord.js';
import type { RgbImage } from '../../lib/engine.ts';
import { contactSheet, decodeImage } from '../../lib/images/index.ts';
import { memberReply } from '../../lib/member-error.ts';
import { describePresets, plural, presetImage } from '../../rules/index.ts';
import { type Context, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { clipLines, type MessageSpec, toInteractionReply } from '../message-spec.ts';
import { guildOnly, slashCommand } from './command.ts';

/** Thumbnails on the catalogue's contact sheet, at most. */
const MAX_PICTURED = 24;
const CELL = 160;

const definition = guildOnly(
  new SlashCommandBuilder()
    .setName('stylize-presets')
    .setDescription('Show the preset paintings you can use with /stylize'),
);

/** The paintings as members see them (`labels`); the first `shown` are pictured. */
export function presetsMessage(labels: readonly string[], shown: number): MessageSpec {
  if (labels.length === 0) {
    return { content: 'There are no presets yet. Admins can add some with `/stylize-admin preset add`.' };
  }
  const more = labels.length > shown ? ` (the first ${shown} are pictured)` : '';
  return {
    content: clipLines([
      `**${plural(labels.length, 'preset painting')}**${more}: use one with \`/stylize style:\` ` +
        '(start typing a painting, an artist or a name)',
      ...labels.map((label) => `• ${label}`),
    ]),
  };
}

async function execute(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
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
    const spec = presetsMessage(
      presets.map((p) => p.label),
      items.length,
    );
    if (items.length > 0) {
      const sheet = await contactSheet(items, { cellSize: CELL, columns: 4, format: 'jpeg' });
      spec.files = [{ name: 'presets.jpg', data: sheet, contentType: 'image/jpeg' }];
    }
    await interaction.editReply(toInteractionReply(spec));
  } catch (error) {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id }, 'discord: /stylize-presets failed');
    }
    await interaction.editReply(errorMessage(error));
  }
}

export const presetsCommand = slashCommand({ data: definition, deferral: 'ephemeral', execute });
