import type { App } from '@slack/bolt';
import {
  cancelJob,
  jobStatus,
  listPresets,
  type SubmitRequest,
  setChatRefs,
  submitJob,
  UserError,
} from '../core/index.ts';
import { fetchFile, type SlackDeps, workspace } from './deps.ts';
import type { SlackRefs } from './events.ts';
import { slackError } from './events.ts';
import {
  IMAGE_FILETYPES,
  messageModal,
  parseStylizeSubmission,
  readStylizeMetadata,
  STYLIZE_MODAL,
  type StylizeChoice,
  stylizeModal,
} from './modal.ts';
import {
  CANCEL_ACTION,
  GENERIC_ERROR,
  memberMessage,
  pendingRequestMessage,
  queuedMessage,
  requestMessage,
  statusText,
} from './render.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * `/stylize` (the form), the "Stylize this image" message shortcut (the same form, with the message's image as
 * the photo), the form's submission (the job), and the Cancel button. Every listener acknowledges Slack first
 * (Slack waits 3 s at most) and then does the slow part: fetching files, deciding, posting.
 */
export const STYLIZE_COMMAND = '/stylize';
export const STYLIZE_SHORTCUT = 'stylize_this_image';

const USAGE =
  '`/stylize` opens the form: your photo, a painting, strength and size. `/stylize status JOB` tells where a job ' +
  'stands. On a message with an image, the “Stylize this image” shortcut (in the message’s ⋮ menu) paints it.';

export function registerStylize(app: App, deps: SlackDeps): void {
  const { core, config, log } = deps;

  app.command(STYLIZE_COMMAND, async ({ command, ack, client }) => {
    const text = command.text.trim();
    const status = /^status\s+#?(\d+)$/i.exec(text);
    if (status) {
      const message = await jobStatus(core, workspace(command.team_id), Number(status[1])).then(
        statusText,
        (error: unknown) => memberMessage(error) ?? GENERIC_ERROR,
      );
      await ack({ response_type: 'ephemeral', text: message });
      return;
    }
    if (text !== '') {
      await ack({ response_type: 'ephemeral', text: USAGE });
      return;
    }
    await ack();
    const presets = await listPresets(core, workspace(command.team_id));
    await client.views.open({
      trigger_id: command.trigger_id,
      view: stylizeModal({ channelId: command.channel_id, presets, sizes: config.sizes }),
    });
  });

  app.shortcut(
    { callback_id: STYLIZE_SHORTCUT, type: 'message_action' },
    async ({ shortcut, ack, client }) => {
      await ack();
      const teamId = shortcut.team?.id ?? shortcut.user.team_id ?? '';
      const image = firstImage(shortcut.message.files);
      if (!image) {
        await client.views.open({
          trigger_id: shortcut.trigger_id,
          view: messageModal(
            'Stylize',
            'That message has no image I can paint (JPEG, PNG, WebP, GIF, AVIF or TIFF).',
          ),
        });
        return;
      }
      const presets = await listPresets(core, workspace(teamId));
      await client.views.open({
        trigger_id: shortcut.trigger_id,
        view: stylizeModal({
          channelId: shortcut.channel.id,
          presets,
          sizes: config.sizes,
          prefill: { fileId: image.id, fileName: image.name },
        }),
      });
    },
  );

  app.view(STYLIZE_MODAL, async ({ ack, body, view, client }) => {
    const meta = readStylizeMetadata(view.private_metadata);
    if (!meta) {
      await ack({
        response_action: 'errors',
        errors: { content: 'This form is out of date; run /stylize again.' },
      });
      return;
    }
    const parsed = parseStylizeSubmission(view, meta, config.sizes);
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: parsed.errors });
      return;
    }
    await ack({
      response_action: 'update',
      view: messageModal('Stylize', ':hourglass_flowing_sand: Getting your images ready…'),
    });
    const teamId = body.team?.id ?? body.user.team_id ?? view.team_id;
    const outcome = await startJob(deps, client, {
      teamId,
      channelId: meta.channelId,
      userId: body.user.id,
      choice: parsed.value,
    });
    await client.views
      .update({ view_id: view.id, view: messageModal('Stylize', outcome) })
      .catch((error: unknown) => log.debug({ err: slackError(error) }, 'slack: the stylize form was closed'));
  });

  app.action(
    { action_id: CANCEL_ACTION, type: 'block_actions' },
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const jobId = Number('value' in action ? action.value : undefined);
      const teamId = body.team?.id ?? body.user.team_id ?? '';
      const server = workspace(teamId);
      const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      if (!Number.isSafeInteger(jobId)) return;
      try {
        let result: 'cancelled' | 'stopping';
        try {
          result = await cancelJob(core, server, jobId, { userId: body.user.id, isAdmin: false });
        } catch (error) {
          // Not the member's own job: an admin may cancel it all the same.
          const forbidden = error instanceof UserError && error.code === 'forbidden';
          if (!forbidden || !(await deps.admins.isAdmin(client, body.user.id))) throw error;
          result = await cancelJob(core, server, jobId, { userId: body.user.id, isAdmin: true });
        }
        await reply(result === 'cancelled' ? `Job ${jobId} is cancelled.` : `Job ${jobId} is stopping…`);
      } catch (error) {
        const message = memberMessage(error);
        if (!message)
          log.error({ jobId, server: teamId, platform: 'slack', err: slackError(error) }, 'slack: cancel');
        await reply(message ?? GENERIC_ERROR).catch(() => {});
      }
    },
  );
}

/**
 * Posts the request in the channel (which also finds out early whether the bot may post there), fetches the
 * files, submits the job, then turns the message into the job's and opens its thread with the progress message.
 * Returns what the form shows the member: where to follow the job, or why it was refused.
 */
async function startJob(
  deps: SlackDeps,
  client: SlackClient,
  request: { teamId: string; channelId: string; userId: string; choice: StylizeChoice },
): Promise<string> {
  const { core, config, log, events } = deps;
  const { teamId, channelId, userId, choice } = request;
  const fields = { server: teamId, platform: 'slack', channel: channelId };

  let parentTs: string;
  try {
    const posted = await client.chat.postMessage({ channel: channelId, ...pendingRequestMessage(userId) });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    parentTs = posted.ts;
  } catch (error) {
    log.warn({ ...fields, err: slackError(error) }, 'slack: cannot post in the channel');
    return 'I can’t post in that channel. Invite me there (`/invite @Stylize`), or use /stylize in a channel I’m in.';
  }

  // Events of the job that come before its thread is recorded wait for it (keyed by the request message).
  const thread = events.expect(parentTs);
  let submitted: Awaited<ReturnType<typeof submitJob>>;
  try {
    const content = await fetchFile(deps, client, choice.contentFileId);
    const styles: SubmitRequest['styles'] = [];
    if (choice.preset) styles.push({ preset: choice.preset });
    if (choice.styleFileId) {
      const style = await fetchFile(deps, client, choice.styleFileId);
      styles.push({ image: style.bytes, name: style.name.replace(/\.[a-z0-9]+$/i, '') || 'your image' });
    }
    submitted = await submitJob(core, {
      server: workspace(teamId),
      channelId,
      threadId: parentTs,
      requesterId: userId,
      content: content.bytes,
      styles,
      options: {
        ...config.jobDefaults,
        ...(choice.strength !== undefined ? { strength: choice.strength } : {}),
        preserveColors: choice.preserveColors,
        ...(choice.size !== undefined ? { size: choice.size } : {}),
      },
    });
  } catch (error) {
    thread.resolve(undefined);
    await client.chat.delete({ channel: channelId, ts: parentTs }).catch(() => {});
    const message = memberMessage(error);
    if (!message) log.error({ ...fields, err: slackError(error) }, 'slack: could not start a job');
    return message ?? GENERIC_ERROR;
  }

  const { job, position, etaMs } = submitted;
  try {
    await client.chat.update({ channel: channelId, ts: parentTs, ...requestMessage(job) });
    const progress = await client.chat.postMessage({
      channel: channelId,
      thread_ts: parentTs,
      ...queuedMessage(job, position, etaMs),
    });
    if (!progress.ts) throw new Error('chat.postMessage returned no ts');
    const refs: SlackRefs = { progressTs: progress.ts };
    await setChatRefs(core, workspace(teamId), job.id, { chatRefs: JSON.stringify(refs) });
    thread.resolve(refs);
  } catch (error) {
    thread.resolve(undefined);
    log.error({ ...fields, jobId: job.id, err: slackError(error) }, 'slack: could not post the job’s thread');
  }
  const where = position === null ? 'It is starting' : `It is #${position} in the queue`;
  return `:art: Your painting is job ${job.id}. ${where}; follow it in the thread under your request in <#${channelId}>.`;
}

interface MessageFile {
  id?: string;
  name?: string;
  filetype?: string;
  mimetype?: string;
  file_access?: string;
}

/** The first file of a message that can be painted (files Slack lists only by id are checked by files.info). */
export function firstImage(files: unknown): { id: string; name: string } | undefined {
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
