import type { ViewResponseAction } from '@slack/bolt';
import { memberReply } from '../../lib/member-error.ts';
import { type CheckedOptions, checkRequest, QuotaError, UserError } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import {
  FIELD,
  messageModal,
  parseStylizeSubmission,
  readStylizeMetadata,
  type StylizeChoice,
} from '../modal.ts';
import type { ViewArgs } from '../slack-types.ts';
import { faultText, showOutcome, teamOf } from './shared.ts';
import { startJob } from './start-job.ts';

/**
 * The /stylize form's submission: checked on its own and against the workspace's limits, quotas and presets
 * (checkRequest) before the form is acknowledged, so that a refusal shows in the form, by the field it is
 * about; then the form says the images are being readied, and the job is started (startJob), whose outcome
 * replaces it.
 */
export async function stylizeSubmitted(
  deps: SlackDeps,
  { ack, body, view, client }: ViewArgs,
): Promise<void> {
  const meta = readStylizeMetadata(view.private_metadata);
  if (!meta) {
    await ack({
      response_action: 'errors',
      errors: { content: 'This form is out of date; run /stylize again.' },
    });
    return;
  }
  const parsed = parseStylizeSubmission(view, meta);
  if (!parsed.ok) {
    await ack({ response_action: 'errors', errors: parsed.errors });
    return;
  }
  const choice = parsed.value;
  const teamId = teamOf(body, view.team_id);
  const checked = await checkChoice(deps, teamId, body.user.id, choice);
  if ('refusal' in checked) {
    await ack(checked.refusal);
    return;
  }
  await ack({
    response_action: 'update',
    view: messageModal('Stylize', ':hourglass_flowing_sand: Getting your images ready…'),
  });
  const request = {
    teamId,
    channelId: meta.channelId,
    userId: body.user.id,
    choice,
    options: checked.options,
  };
  const outcome = await startJob(deps, client, request);
  await showOutcome(deps, client, { id: view.id, title: 'Stylize' }, outcome);
}

/** The choice's options within the workspace's limits, or the form's answer saying why not. */
async function checkChoice(
  deps: SlackDeps,
  teamId: string,
  userId: string,
  choice: StylizeChoice,
): Promise<{ options: CheckedOptions } | { refusal: ViewResponseAction }> {
  try {
    const { options } = await checkRequest(deps.core, {
      server: workspace(teamId),
      requesterId: userId,
      options: {
        size: choice.size,
        iterations: choice.iterations,
        strength: choice.strength,
        preserveColors: choice.preserveColors,
      },
      defaults: deps.config.jobDefaults,
      presets: choice.preset ? [choice.preset] : [],
    });
    return { options };
  } catch (error) {
    const field = fieldOf(error);
    if (field)
      return { refusal: { response_action: 'errors', errors: { [field]: memberReply(error).text } } };
    const text = faultText(deps.log, error, { server: teamId }, 'slack: checking a request');
    return { refusal: { response_action: 'update', view: messageModal('Stylize', text) } };
  }
}

/** The form's field a refusal is about, to show it there: the size, the iterations, the painting. */
function fieldOf(error: unknown): string | undefined {
  if (error instanceof QuotaError) {
    if (error.limit === 'maxSize') return FIELD.size;
    if (error.limit === 'maxIterations') return FIELD.iterations;
  }
  if (error instanceof UserError && error.code === 'not-found') return FIELD.preset;
  return undefined;
}
