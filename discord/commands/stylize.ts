/**
 * /stylize: a photo, and a preset painting or the member's own style image, with optional size, iterations,
 * strength and colours. What the interaction alone tells is refused at once, to the member alone (no style, two
 * styles, an attachment that is not an image, too large, or not on Discord's CDN); the rest goes the one way a
 * request goes (stylize-request.ts), whose public reply the thread starts on.
 */
import { type ChatInputCommandInteraction, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { ITERATIONS, PRESET_NAME, SIZE, STRENGTH } from '../../lib/request-rules.ts';
import { checkAttachment } from '../attachments.ts';
import { autocompleteOptions } from '../autocomplete.ts';
import type { Context } from '../context.ts';
import { stylize } from '../stylize-request.ts';
import { guildOnly, slashCommand } from './command.ts';

const messages = {
  chooseStyle:
    'Choose a style: a preset in `style` (start typing a painting, an artist or a name) or your own `style_image`.',
  oneStyle: 'Give either a preset in `style` or your own `style_image`, not both.',
} as const;

const definition = guildOnly(
  new SlashCommandBuilder()
    .setName('stylize')
    .setDescription('Paint your photo in the style of a famous painting (or of an image you upload)'),
)
  .addAttachmentOption((o) => o.setName('image').setDescription('The photo to paint').setRequired(true))
  .addStringOption((o) =>
    o
      .setName('style')
      .setDescription('A preset painting (start typing to search); or give a style_image instead')
      .setMaxLength(PRESET_NAME.maxLength)
      .setAutocomplete(true),
  )
  .addAttachmentOption((o) =>
    o.setName('style_image').setDescription('Your own style image, instead of a preset'),
  )
  .addIntegerOption((o) =>
    o
      .setName('strength')
      .setDescription(
        `How strongly to apply the style, ${STRENGTH.min}-${STRENGTH.max} (default: what suits the painting)`,
      )
      .setMinValue(STRENGTH.min)
      .setMaxValue(STRENGTH.max),
  )
  .addIntegerOption((o) =>
    o
      .setName('size')
      .setDescription('Output size in px, the longer side (start typing to see what this server allows)')
      .setMinValue(SIZE.min)
      .setMaxValue(SIZE.max)
      .setAutocomplete(true),
  )
  .addIntegerOption((o) =>
    o
      .setName('iterations')
      .setDescription("Optimisation steps, up to this server's limit: more is slower and finer")
      .setMinValue(ITERATIONS.min)
      .setMaxValue(ITERATIONS.max)
      .setAutocomplete(true),
  )
  .addBooleanOption((o) =>
    o.setName('preserve_colors').setDescription("Keep your photo's colours, take only the brushwork"),
  );

async function execute(ctx: Context, interaction: ChatInputCommandInteraction): Promise<void> {
  const image = interaction.options.getAttachment('image', true);
  const typedStyle = interaction.options.getString('style')?.trim() || null;
  const styleImage = interaction.options.getAttachment('style_image');
  const refusal =
    (!typedStyle && !styleImage ? messages.chooseStyle : undefined) ??
    (typedStyle && styleImage ? messages.oneStyle : undefined) ??
    checkAttachment(image, ctx.config.download)?.message ??
    (styleImage ? checkAttachment(styleImage, ctx.config.download)?.message : undefined);
  if (refusal) {
    await interaction.reply({ content: refusal, flags: MessageFlags.Ephemeral });
    return;
  }
  await stylize(ctx, interaction, {
    image,
    typedStyle,
    styleImage,
    options: {
      size: interaction.options.getInteger('size') ?? undefined,
      iterations: interaction.options.getInteger('iterations') ?? undefined,
      strength: interaction.options.getInteger('strength') ?? undefined,
      preserveColors: interaction.options.getBoolean('preserve_colors') ?? undefined,
    },
  });
}

/** Deferred publicly when slow: the thread starts on the reply. */
export const stylizeCommand = slashCommand({
  data: definition,
  deferral: 'public',
  execute,
  autocomplete: autocompleteOptions,
});
