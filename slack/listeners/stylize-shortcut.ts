import { IMAGE_FORMAT_NAMES } from '../../lib/images/index.ts';
import type { SlackDeps } from '../deps.ts';
import { IMAGE_FILETYPES, messageModal } from '../modal.ts';
import type { ShortcutArgs } from '../slack-types.ts';
import { teamOf } from './shared.ts';
import { openStylizeForm } from './stylize-form.ts';

/** The "Stylize this image" message shortcut: the /stylize form, with the message's image as the photo. */
export const STYLIZE_SHORTCUT = 'stylize_this_image';

export async function stylizeShortcut(
  deps: SlackDeps,
  { shortcut, ack, client }: ShortcutArgs,
): Promise<void> {
  await ack();
  const image = firstImage(shortcut.message.files);
  if (!image) {
    await client.views.open({
      trigger_id: shortcut.trigger_id,
      view: messageModal('Stylize', `That message has no image I can paint (${IMAGE_FORMAT_NAMES}).`),
    });
    return;
  }
  await openStylizeForm(deps, client, shortcut.trigger_id, {
    teamId: teamOf(shortcut),
    userId: shortcut.user.id,
    channelId: shortcut.channel.id,
    prefill: { fileId: image.id, fileName: image.name },
  });
}

interface MessageFile {
  id?: string;
  name?: string;
  filetype?: string;
  mimetype?: string;
  file_access?: string;
}

/** The first file of a message that can be painted (files Slack lists only by id are checked by files.info). */
function firstImage(files: unknown): { id: string; name: string } | undefined {
  if (!Array.isArray(files)) return undefined;
  for (const file of files as MessageFile[]) {
    if (!file.id) continue;
    const image =
      (file.mimetype?.startsWith('image/') ?? false) ||
      IMAGE_FILETYPES.includes(file.filetype ?? '') ||
      file.file_access === 'check_file_info';
    if (image) return { id: file.id, name: file.name ?? 'the image' };
  }
  return undefined;
}
