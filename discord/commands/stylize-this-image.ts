/**
 * Apps → "Stylize this image", on a message: paints the message's first image we can read, through the picker
 * (components/picker.ts), since a context menu command has no options. A message without one is refused at once,
 * to the member alone.
 */
import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  type MessageContextMenuCommandInteraction,
  MessageFlags,
} from 'discord.js';
import { checkImageType } from '../../chat/file-type.ts';
import { IMAGE_FORMAT_NAMES } from '../../lib/images/index.ts';
import { checkAttachment } from '../attachments.ts';
import { showPicker } from '../components/picker.ts';
import type { Context } from '../context.ts';
import { guildOnly, messageCommand } from './command.ts';

export const stylizeThisImageMessages = {
  noImage: `That message has no image I can paint (${IMAGE_FORMAT_NAMES}). Use this on a message with an image attached, or /stylize with your photo.`,
} as const;

const definition = guildOnly(
  new ContextMenuCommandBuilder().setName('Stylize this image').setType(ApplicationCommandType.Message),
);

async function execute(ctx: Context, interaction: MessageContextMenuCommandInteraction): Promise<void> {
  const { noImage } = stylizeThisImageMessages;
  const attachments = [...interaction.targetMessage.attachments.values()];
  const image = attachments.find((a) => !checkImageType(a.contentType, a.name));
  const refusal = image
    ? checkAttachment(image, ctx.config.download)?.message
    : attachments[0]
      ? (checkImageType(attachments[0].contentType, attachments[0].name)?.message ?? noImage)
      : noImage;
  if (!image || refusal) {
    await interaction.reply({ content: refusal ?? noImage, flags: MessageFlags.Ephemeral });
    return;
  }
  const { width, height } = image;
  await showPicker(ctx, interaction, 'this image', { url: image.url, width, height });
}

export const stylizeThisImageCommand = messageCommand({ data: definition, deferral: 'ephemeral', execute });
