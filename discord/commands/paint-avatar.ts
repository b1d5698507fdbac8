/**
 * Apps → "Paint this avatar", on a member: paints their own avatar, as a PNG at the CDN's largest size, through
 * the picker (components/picker.ts). A member with Discord's default avatar is refused at once, to the member
 * who asked alone.
 */
import {
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  MessageFlags,
  type UserContextMenuCommandInteraction,
} from 'discord.js';
import { isAllowedUrl } from '../attachments.ts';
import { showPicker } from '../components/picker.ts';
import type { Context } from '../context.ts';
import { guildOnly, userCommand } from './command.ts';

export const paintAvatarMessages = {
  noAvatar:
    'That member has no avatar of their own (Discord’s default one is not a picture to paint). Try another member, or /stylize with a photo.',
} as const;

const definition = guildOnly(
  new ContextMenuCommandBuilder().setName('Paint this avatar').setType(ApplicationCommandType.User),
);

async function execute(ctx: Context, interaction: UserContextMenuCommandInteraction): Promise<void> {
  const target = interaction.targetUser;
  const url = target.avatar
    ? target.displayAvatarURL({ extension: 'png', size: 4096, forceStatic: true })
    : undefined;
  if (!url || !isAllowedUrl(url, ctx.config.download)) {
    await interaction.reply({ content: paintAvatarMessages.noAvatar, flags: MessageFlags.Ephemeral });
    return;
  }
  const subject = target.id === interaction.user.id ? 'your avatar' : `<@${target.id}>’s avatar`;
  await showPicker(ctx, interaction, subject, { url, width: null, height: null });
}

export const paintAvatarCommand = userCommand({ data: definition, deferral: 'ephemeral', execute });
