import { cancelJob } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import type { ButtonArgs } from '../slack-types.ts';
import { asMemberOrAdmin, faultText, jobButton } from './shared.ts';

/**
 * The Cancel button of a job's progress message (render.ts's cancelButton): the member's own job, or any for a
 * workspace admin. The outcome, or why not, is told to the member alone.
 */
export async function cancelPressed(deps: SlackDeps, args: ButtonArgs) {
  const pressed = await jobButton(args);
  if (!pressed) return;
  const { jobId, teamId, tell } = pressed;
  const { body, client } = args;
  try {
    const { value: result } = await asMemberOrAdmin(deps, client, body.user.id, (actor) =>
      cancelJob(deps.core, workspace(teamId), jobId, actor),
    );
    await tell(result === 'cancelled' ? `Job ${jobId} is cancelled.` : `Job ${jobId} is stopping…`);
  } catch (error) {
    await tell(faultText(deps.log, error, { jobId, server: teamId }, 'slack: cancel')).catch(() => {});
  }
}
