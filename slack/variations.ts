import type { App } from '@slack/bolt';
import { encodeRefs, type SlackRefs } from '../chat/refs.ts';
import { memberReply } from '../lib/member-error.ts';
import {
  checkVariation,
  jobStatus,
  type Submission,
  setChatRefs,
  submitVariation,
  UserError,
  type VariationRequest,
} from '../rules/index.ts';
import { type SlackDeps, workspace } from './deps.ts';
import { slackError } from './errors.ts';
import { errorText, queuedMessage, VARIATION_ACTION_PREFIX, variationOfAction } from './render.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * The variation buttons under a finished painting (More style, Less style, Keep my colours or Use the painting’s
 * colours, Larger). The press is acknowledged at once; then the core decides (the requester or a workspace admin,
 * the images still kept, the option able to change, the limits and quotas), and a refusal is told to the member
 * alone. An accepted variation gets its progress message in the painting's thread, as a new painting's does,
 * and the member is told its job and place in the queue.
 */
export function registerVariations(app: App, deps: SlackDeps): void {
  const { core, log } = deps;
  /**
   * Per thread, the variation being set up: the job events wait for a thread's progress message by the thread's
   * ts (SlackJobEvents.expect), so two presses in one thread are set up one after the other.
   */
  const settingUp = new Map<string, Promise<unknown>>();

  app.action(
    { action_id: new RegExp(`^${VARIATION_ACTION_PREFIX}`), type: 'block_actions' },
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const kind = variationOfAction('action_id' in action ? action.action_id : '');
      const jobId = Number('value' in action ? action.value : undefined);
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      if (!kind || !Number.isSafeInteger(jobId)) return;
      const request: VariationRequest = {
        server: workspace(teamId),
        jobId,
        kind,
        actor: { userId: body.user.id, isAdmin: false },
      };
      try {
        try {
          await checkVariation(core, request);
        } catch (error) {
          // Not the member's own painting: an admin may vary it all the same.
          const forbidden = error instanceof UserError && error.code === 'forbidden';
          if (!forbidden || !(await deps.admins.isAdmin(client, body.user.id))) throw error;
          request.actor = { ...request.actor, isAdmin: true };
        }
        const { threadId } = (await jobStatus(core, request.server, jobId)).job;
        const previous = (threadId && settingUp.get(threadId)) || undefined;
        const setup = (async () => {
          await previous?.catch(() => {});
          return start(deps, client, request, threadId);
        })();
        if (threadId) settingUp.set(threadId, setup);
        const { job, position } = await setup.finally(() => {
          if (threadId && settingUp.get(threadId) === setup) settingUp.delete(threadId);
        });
        const where = position === null ? 'It is starting' : `It is #${position} in the queue`;
        await reply(`:art: Your variation is job ${job.id}. ${where}; follow it in this thread.`);
      } catch (error) {
        if (memberReply(error).log)
          log.error({ jobId, server: teamId, platform: 'slack', err: slackError(error) }, 'slack: variation');
        await reply(errorText(error)).catch(() => {});
      }
    },
  );
}

/** Queues the variation and posts its progress message in the thread `threadTs` (the painting's). */
async function start(
  deps: SlackDeps,
  client: SlackClient,
  request: VariationRequest,
  threadTs: string | null,
): Promise<Submission> {
  const { core, log, events } = deps;
  const thread = threadTs ? events.expect(threadTs) : undefined;
  let submitted: Submission;
  try {
    submitted = await submitVariation(core, request);
  } catch (error) {
    thread?.resolve(undefined);
    throw error;
  }
  const { job, position, etaMs } = submitted;
  try {
    const progress = await client.chat.postMessage({
      channel: job.channelId,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...queuedMessage(job, position, etaMs),
    });
    if (!progress.ts) throw new Error('chat.postMessage returned no ts');
    const refs: SlackRefs = { progressTs: progress.ts };
    await setChatRefs(core, request.server, job.id, { chatRefs: encodeRefs('slack', refs) });
    thread?.resolve(refs);
  } catch (error) {
    thread?.resolve(undefined);
    log.error(
      { server: request.server.id, platform: 'slack', jobId: job.id, err: slackError(error) },
      'slack: could not post the variation’s progress message',
    );
  }
  return submitted;
}
