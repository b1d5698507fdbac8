import { reportDownloadFault } from '../../chat/download-faults.ts';
import type { Logger } from '../../lib/log.ts';
import { memberReply } from '../../lib/member-error.ts';
import { type Actor, UserError } from '../../rules/index.ts';
import type { SlackDeps } from '../deps.ts';
import { slackError } from '../errors.ts';
import { messageModal } from '../modal.ts';
import { errorText } from '../render.ts';
import type { ButtonArgs, SlackClient } from '../slack-types.ts';

/**
 * What the listeners have in common: reading the workspace and the job from a payload, answering the member who
 * pressed a button, logging what went wrong, and the admin's second try.
 */

/**
 * The workspace a payload comes from: its team, else the member's (Slack gives no team for an app installed
 * on a whole Enterprise Grid organisation), else `fallback` (a view's own team_id).
 */
export function teamOf(
  body: { team?: { id?: string } | null; user?: { team_id?: string } },
  fallback = '',
): string {
  return body.team?.id ?? body.user?.team_id ?? fallback;
}

/**
 * Acknowledges the press of a job's button (Slack waits 3 s at most) and reads it: the job (the button's value),
 * the workspace, and how to tell the member who pressed it, alone, leaving the message as it is. Undefined when
 * the value is not a job id.
 */
export async function jobButton({ ack, body, action, respond }: ButtonArgs) {
  await ack();
  const jobId = Number('value' in action ? action.value : undefined);
  if (!Number.isSafeInteger(jobId)) return undefined;
  const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  return { jobId, teamId: teamOf(body), tell };
}

/**
 * Shows a form's outcome in place of the "working on it" view it was acknowledged with (views.update). A form
 * the member closed meanwhile stays closed.
 */
export async function showOutcome(
  deps: Pick<SlackDeps, 'log'>,
  client: SlackClient,
  view: { id: string; title: string },
  outcome: string,
): Promise<void> {
  await client.views
    .update({ view_id: view.id, view: messageModal(view.title, outcome) })
    .catch((error: unknown) =>
      deps.log.debug(
        { form: view.title, err: slackError(error) },
        'slack: a form was closed before its outcome',
      ),
    );
}

/**
 * Logs `error` when it is the operator's or a fault (a member's own mistake is not logged): a download that
 * brought back something other than the file with its own line and metric (reportDownloadFault).
 */
export function logFault(log: Logger, error: unknown, fields: Record<string, unknown>, what: string): void {
  if (reportDownloadFault(log, 'slack', error, fields)) return;
  if (memberReply(error).log) log.error({ ...fields, platform: 'slack', err: slackError(error) }, what);
}

/** The member's sentence for `error` (errorText), after logging it if it needs looking into (logFault). */
export function faultText(
  log: Logger,
  error: unknown,
  fields: Record<string, unknown>,
  what: string,
): string {
  logFault(log, error, fields, what);
  return errorText(error);
}

/**
 * Runs `attempt` as the member; when the core refuses because the job is not theirs, again as a workspace
 * admin if Slack counts the member as one (users.info: is_admin or is_owner). Returns the result and who it ran as.
 */
export async function asMemberOrAdmin<T>(
  deps: Pick<SlackDeps, 'admins'>,
  client: SlackClient,
  userId: string,
  attempt: (actor: Actor) => Promise<T>,
): Promise<{ value: T; actor: Actor }> {
  const member: Actor = { userId, isAdmin: false };
  try {
    return { value: await attempt(member), actor: member };
  } catch (error) {
    const forbidden = error instanceof UserError && error.code === 'forbidden';
    if (!forbidden || !(await deps.admins.isAdmin(client, userId))) throw error;
    const admin: Actor = { userId, isAdmin: true };
    return { value: await attempt(admin), actor: admin };
  }
}
