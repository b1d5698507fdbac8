/**
 * The variation buttons under a finished painting (More style, Less style, Keep my colours or Use the painting’s
 * colours, Larger). A press by anyone but the painting's requester or an admin is refused at once; then the core
 * checks the rest (the images still kept, the option able to change, the limits and quotas) and refuses only to
 * the member. Only then is the press answered in public, where the painting is (its thread), and that answer
 * becomes the new job's progress message, with its Cancel button; the result follows in the same thread.
 */

import { type ButtonInteraction, MessageFlags } from 'discord.js';
import type { DiscordRefs } from '../../chat/refs.ts';
import { memberReply } from '../../lib/member-error.ts';
import {
  checkVariation,
  type Submission,
  submitVariation,
  type VariationRequest,
} from '../../rules/index.ts';
import { parseVariationButtonId, type VariationTarget } from '../buttons.ts';
import { type Context, isAdmin, serverOf } from '../context.ts';
import { errorMessage, safeError } from '../errors.ts';
import { answer } from '../first-answer.ts';
import { progressQueued } from '../job-messages.ts';
import { showReply } from '../reply.ts';
import { recordJobMessages } from '../stylize-request.ts';
import { button } from './component.ts';

const messages = {
  notYourPainting: 'Only the member who asked for this painting, or an admin, can ask for a variation of it.',
} as const;

async function execute(ctx: Context, interaction: ButtonInteraction, target: VariationTarget): Promise<void> {
  const admin = isAdmin(interaction);
  if (interaction.user.id !== target.requesterId && !admin) {
    await interaction.reply({ content: messages.notYourPainting, flags: MessageFlags.Ephemeral });
    return;
  }
  const server = serverOf(interaction.guildId!);
  const request: VariationRequest = {
    server,
    jobId: target.jobId,
    kind: target.kind,
    actor: { userId: interaction.user.id, isAdmin: admin },
  };
  const refuse = (error: unknown) => {
    if (memberReply(error).log) {
      ctx.log.error({ err: safeError(error), server: server.id, jobId: target.jobId }, 'discord: variation');
    }
    return { content: errorMessage(error), flags: MessageFlags.Ephemeral } as const;
  };
  // Checked before the answer, so that a refusal is the member's alone; under a slow database the router's guard
  // (first-answer.ts) defers the answer publicly in time, and a refusal then deletes it (see `answer`).
  try {
    await checkVariation(ctx.core, request);
  } catch (error) {
    await answer(interaction, refuse(error));
    return;
  }

  await interaction.deferReply();
  let submission: Submission;
  try {
    submission = await submitVariation(ctx.core, request);
  } catch (error) {
    // A limit another request reached meanwhile: the public answer goes, the member alone is told why.
    await answer(interaction, refuse(error)).catch((e: unknown) =>
      ctx.log.warn({ err: safeError(e) }, 'discord: could not tell the member'),
    );
    return;
  }
  await setUp(ctx, interaction, submission);
}

/**
 * Shows the accepted variation: the press's answer, in the painting's thread (or channel, where it has none),
 * is its progress message, and the message ids are stored with the job.
 */
async function setUp(ctx: Context, interaction: ButtonInteraction, submission: Submission): Promise<void> {
  const { job } = submission;
  const server = serverOf(interaction.guildId!);
  const setup = ctx.setups.begin(job.id);
  let refs: DiscordRefs | undefined;
  try {
    const reply = await showReply(ctx, interaction, progressQueued(job, submission, Date.now()));
    const threadId = job.threadId !== null && job.threadId === reply.channelId ? reply.channelId : null;
    refs = await recordJobMessages(ctx, interaction, job.id, { reply, progress: reply, threadId });
  } catch (error) {
    ctx.log.error(
      { err: safeError(error), jobId: job.id, server: server.id, platform: server.platform },
      'discord: could not show the variation; its progress will not be shown',
    );
  } finally {
    setup.finish(refs);
  }
}

/** Answered in public, in the painting's thread, when the guard defers it: that answer is the new job's progress. */
export const variationButton = button({ parse: parseVariationButtonId, deferral: 'public', execute });
