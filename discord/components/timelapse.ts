/**
 * The Timelapse button on a finished painting's final message: it posts the job's timelapse (an animated WebP,
 * which Discord plays inline: "Modern Image Formats at Discord: Supporting WebP and AVIF", Discord's engineering
 * blog, 2025) where the button was pressed, the job's thread, for anyone there to see. Pressing it
 * is open to anyone who can see the thread, as the painting itself is. When there is none to post (the job's images
 * were deleted after the retention period, or it has none), only the member who pressed it is told why. The job is
 * read before the answer; under a slow database the router's guard (first-answer.ts) defers it in time.
 */
import { type ButtonInteraction, MessageFlags } from 'discord.js';
import { memberReply } from '../../lib/member-error.ts';
import { jobTimelapse, type StoredImage } from '../../rules/index.ts';
import { parseTimelapseButtonId } from '../buttons.ts';
import { type Context, DEFAULT_UPLOAD_LIMIT, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { OVERHEAD_BYTES } from '../fit.ts';
import { type FileSpec, type MessageSpec, toInteractionReply } from '../message-spec.ts';
import { button } from './component.ts';

const timelapseMessages = {
  tooLarge: 'This timelapse is larger than I can upload in this server.',
} as const;

/** What the button posts where it was pressed (the job's thread): the animation. */
function timelapseMessage(jobId: number, file: FileSpec): MessageSpec {
  return { content: `Painting #${jobId} from the photo to the result:`, files: [file] };
}

async function execute(ctx: Context, interaction: ButtonInteraction, jobId: number): Promise<void> {
  let image: StoredImage;
  try {
    ({ image } = await jobTimelapse(ctx.core, serverOf(interaction.guildId!), jobId));
  } catch (error) {
    if (memberReply(error).log) ctx.log.error({ err: safeError(error), jobId }, 'discord: timelapse failed');
    await interaction.reply({ content: errorMessage(error), flags: MessageFlags.Ephemeral });
    return;
  }
  const limit = interaction.attachmentSizeLimit || DEFAULT_UPLOAD_LIMIT;
  if (image.bytes.length > limit - OVERHEAD_BYTES) {
    await interaction.reply({ content: timelapseMessages.tooLarge, flags: MessageFlags.Ephemeral });
    return;
  }
  const extension = image.mime === 'image/gif' ? 'gif' : 'webp';
  const file = { name: `timelapse-${jobId}.${extension}`, data: image.bytes, contentType: image.mime };
  await interaction.reply(toInteractionReply(timelapseMessage(jobId, file)));
}

/** Posted in public, in the thread, when the guard has to defer it. */
export const timelapseButton = button({ parse: parseTimelapseButtonId, deferral: 'public', execute });
