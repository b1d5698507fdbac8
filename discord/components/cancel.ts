/**
 * The Cancel button under a job's progress: the requester's, or an admin's. Anyone else is refused at once, to
 * them alone; then the core decides (a queued job is cancelled, a running one told to stop), and the answer is
 * the presser's alone.
 */
import { type ButtonInteraction, MessageFlags } from 'discord.js';
import { memberReply } from '../../lib/member-error.ts';
import { cancelJob } from '../../rules/index.ts';
import { type OwnedJob, parseCancelButtonId } from '../buttons.ts';
import { type Context, isAdmin, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { button } from './component.ts';

const cancelMessages = {
  notYourJob: 'Only the member who asked for this painting, or an admin, can cancel it.',
  cancelled: (jobId: number) => `Painting #${jobId} is cancelled.`,
  stopping: (jobId: number) => `Painting #${jobId} is stopping; the thread will say when it has.`,
} as const;

async function execute(ctx: Context, interaction: ButtonInteraction, target: OwnedJob): Promise<void> {
  const admin = isAdmin(interaction);
  if (interaction.user.id !== target.requesterId && !admin) {
    await interaction.reply({ content: cancelMessages.notYourJob, flags: MessageFlags.Ephemeral });
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  try {
    const result = await cancelJob(ctx.core, serverOf(interaction.guildId!), target.jobId, {
      userId: interaction.user.id,
      isAdmin: admin,
    });
    await interaction.editReply(
      result === 'cancelled' ? cancelMessages.cancelled(target.jobId) : cancelMessages.stopping(target.jobId),
    );
  } catch (error) {
    if (memberReply(error).log) ctx.log.error({ err: safeError(error) }, 'discord: cancel failed');
    await interaction.editReply(errorMessage(error));
  }
}

export const cancelButton = button({ parse: parseCancelButtonId, deferral: 'ephemeral', execute });
