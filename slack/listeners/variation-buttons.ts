import {
  checkVariation,
  jobStatus,
  type Submission,
  submitVariation,
  type VariationRequest,
} from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { slackError } from '../errors.ts';
import { variationOfAction } from '../render.ts';
import type { ButtonArgs, SlackClient } from '../slack-types.ts';
import { postProgressMessage, queuedText } from './job-thread.ts';
import { asMemberOrAdmin, faultText, jobButton } from './shared.ts';

/**
 * The variation buttons under a finished painting (More style, Less style, Keep my colours or Use the painting’s
 * colours, Larger). The press is acknowledged at once; then the core decides (the requester or a workspace admin,
 * the images still kept, the option able to change, the limits and quotas), and a refusal is told to the member
 * alone. An accepted variation gets its progress message in the painting's thread, as a new painting's does,
 * and the member is told its job and place in the queue.
 */
export async function variationPressed(deps: SlackDeps, args: ButtonArgs) {
  const pressed = await jobButton(args);
  const { action, body, client } = args;
  const kind = variationOfAction('action_id' in action ? action.action_id : '');
  if (!pressed || !kind) return;
  const { jobId, teamId, tell } = pressed;
  const asked = { server: workspace(teamId), jobId, kind };
  try {
    const { actor } = await asMemberOrAdmin(deps, client, body.user.id, (actor) =>
      checkVariation(deps.core, { ...asked, actor }),
    );
    const submitted = await setUpInThread(deps, client, { ...asked, actor });
    await tell(queuedText('variation', submitted, 'this thread'));
  } catch (error) {
    await tell(faultText(deps.log, error, { jobId, server: teamId }, 'slack: variation')).catch(() => {});
  }
}

/**
 * Sets the variation up after any other being set up in the same thread: the job events wait for a thread's
 * progress message by the thread's ts (SlackJobEvents.expect), one at a time.
 */
async function setUpInThread(
  deps: SlackDeps,
  client: SlackClient,
  request: VariationRequest,
): Promise<Submission> {
  const { threadId } = (await jobStatus(deps.core, request.server, request.jobId)).job;
  const setups = deps.variationSetups;
  const previous = (threadId && setups.get(threadId)) || undefined;
  const setup = (async () => {
    await previous?.catch(() => {});
    return start(deps, client, request, threadId);
  })();
  if (threadId) setups.set(threadId, setup);
  return setup.finally(() => {
    if (threadId && setups.get(threadId) === setup) setups.delete(threadId);
  });
}

/** Queues the variation and posts its progress message in the thread `threadTs` (the painting's). */
async function start(
  deps: SlackDeps,
  client: SlackClient,
  request: VariationRequest,
  threadTs: string | null,
): Promise<Submission> {
  const thread = threadTs ? deps.events.expect(threadTs) : undefined;
  let submitted: Submission;
  try {
    submitted = await submitVariation(deps.core, request);
  } catch (error) {
    thread?.resolve(undefined);
    throw error;
  }
  try {
    thread?.resolve(await postProgressMessage(deps, client, submitted, threadTs));
  } catch (error) {
    thread?.resolve(undefined);
    deps.log.error(
      { server: request.server.id, platform: 'slack', jobId: submitted.job.id, err: slackError(error) },
      'slack: could not post the variation’s progress message',
    );
  }
  return submitted;
}
