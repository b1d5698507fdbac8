import type { App } from '@slack/bolt';
import { reportDownloadFault } from '../chat/download-faults.ts';
import { encodeRefs, type SlackRefs } from '../chat/refs.ts';
import { IMAGE_FORMAT_NAMES } from '../lib/images/index.ts';
import { memberReply } from '../lib/member-error.ts';
import { preselectSize, sizesAllowed } from '../lib/request-rules.ts';
import {
  type CheckedOptions,
  cancelJob,
  checkImages,
  checkRequest,
  jobStatus,
  memberHistory,
  QuotaError,
  type SubmitRequest,
  setChatRefs,
  submitJob,
  UserError,
} from '../rules/index.ts';
import { fetchFiles, type SlackDeps, workspace } from './deps.ts';
import { slackError } from './errors.ts';
import { helpFor } from './help.ts';
import {
  FIELD,
  IMAGE_FILETYPES,
  messageModal,
  parseStylizeSubmission,
  presetOptions,
  readStylizeMetadata,
  STYLIZE_MODAL,
  type StylizeChoice,
  stylizeModal,
} from './modal.ts';
import {
  CANCEL_ACTION,
  errorText,
  historyText,
  pendingRequestMessage,
  queuedMessage,
  requestMessage,
  statusText,
} from './render.ts';
import type { ModalView, SlackClient } from './slack-types.ts';

/**
 * `/stylize` (the form; `/stylize status JOB`, `/stylize history` and `/stylize help` answered to the member alone), the "Stylize
 * this image" message shortcut (the same form, with the message's image as the photo), the form's painting
 * search, the form's submission (the job), and the Cancel button. Every listener acknowledges Slack first (Slack
 * waits 3 s at most) and then does the slow part: fetching files, deciding, posting.
 *
 * Nothing is posted in the channel before everything that can be checked without the images has been, and the
 * images are downloaded: the form offers only the sizes and iterations the workspace allows; its submission is
 * checked against the limits, quotas and presets (checkRequest) before the form is acknowledged, so a refusal
 * shows in the form; then the files' metadata, their downloads, and their headers (images, of shapes the layers
 * can paint: checkImages). Only what decoding finds (pixels that do not read) or a limit another request reached
 * meanwhile can refuse a request whose message is already in the channel; that message is then deleted.
 */
export const STYLIZE_COMMAND = '/stylize';
export const STYLIZE_SHORTCUT = 'stylize_this_image';

const USAGE =
  '`/stylize` opens the form: your photo, a painting, strength, size and iterations. `/stylize status JOB` tells ' +
  'where a job stands; `/stylize history` lists your latest paintings; `/stylize help` says how to ask, the ' +
  'options and what you have left today. On a message with an image, the “Stylize this image” shortcut (in the ' +
  'message’s ⋮ menu) paints it.';

export function registerStylize(app: App, deps: SlackDeps): void {
  const { core, log } = deps;

  app.command(STYLIZE_COMMAND, async ({ command, ack, client, respond }) => {
    const text = command.text.trim();
    if (/^history$/i.test(text)) {
      // Acknowledged first: the permalinks are one Web API call per painting.
      await ack();
      const message = await historyFor(deps, client, command.team_id, command.user_id).catch(
        (error: unknown) => {
          if (memberReply(error).log)
            log.error({ server: command.team_id, err: slackError(error) }, 'slack: history');
          return errorText(error);
        },
      );
      await respond({ response_type: 'ephemeral', text: message });
      return;
    }
    const status = /^status\s+#?(\d+)$/i.exec(text);
    if (status) {
      await ack();
      const message = await jobStatus(core, workspace(command.team_id), Number(status[1])).then(
        statusText,
        (error: unknown) => {
          if (memberReply(error).log)
            log.error({ server: command.team_id, err: slackError(error) }, 'slack: status');
          return errorText(error);
        },
      );
      await respond({ response_type: 'ephemeral', text: message });
      return;
    }
    if (/^help$/i.test(text)) {
      await ack();
      await respond({
        response_type: 'ephemeral',
        text: await helpFor(deps, command.team_id, command.user_id),
      });
      return;
    }
    if (text !== '') {
      await ack({ response_type: 'ephemeral', text: USAGE });
      return;
    }
    await ack();
    await openForm(client, command.trigger_id, () =>
      stylizeForm(deps, { teamId: command.team_id, userId: command.user_id, channelId: command.channel_id }),
    );
  });

  app.shortcut(
    { callback_id: STYLIZE_SHORTCUT, type: 'message_action' },
    async ({ shortcut, ack, client }) => {
      await ack();
      const image = firstImage(shortcut.message.files);
      if (!image) {
        await client.views.open({
          trigger_id: shortcut.trigger_id,
          view: messageModal('Stylize', `That message has no image I can paint (${IMAGE_FORMAT_NAMES}).`),
        });
        return;
      }
      await openForm(client, shortcut.trigger_id, () =>
        stylizeForm(deps, {
          teamId: shortcut.team?.id ?? shortcut.user.team_id ?? '',
          userId: shortcut.user.id,
          channelId: shortcut.channel.id,
          prefill: { fileId: image.id, fileName: image.name },
        }),
      );
    },
  );

  // The painting select's options, as the member types: any number of presets, found by title, artist or name.
  app.options<'block_suggestion'>(
    { type: 'block_suggestion', block_id: FIELD.preset },
    async ({ ack, body }) => {
      const teamId = body.team?.id ?? body.user.team_id ?? body.view?.team_id ?? '';
      try {
        const { presets } = await deps.choices.get(workspace(teamId));
        await ack({ options: presetOptions(presets, body.value) });
      } catch (error) {
        log.error({ server: teamId, platform: 'slack', err: slackError(error) }, 'slack: painting search');
        await ack({ options: [] });
      }
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
    const parsed = parseStylizeSubmission(view, meta);
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: parsed.errors });
      return;
    }
    const choice = parsed.value;
    const teamId = body.team?.id ?? body.user.team_id ?? view.team_id;
    let options: CheckedOptions;
    try {
      ({ options } = await checkRequest(core, {
        server: workspace(teamId),
        requesterId: body.user.id,
        options: {
          size: choice.size,
          iterations: choice.iterations,
          strength: choice.strength,
          preserveColors: choice.preserveColors,
        },
        defaults: deps.config.jobDefaults,
        presets: choice.preset ? [choice.preset] : [],
      }));
    } catch (error) {
      const field = fieldOf(error);
      if (field) {
        await ack({ response_action: 'errors', errors: { [field]: memberReply(error).text } });
        return;
      }
      if (memberReply(error).log)
        log.error({ server: teamId, platform: 'slack', err: slackError(error) }, 'slack: checking a request');
      await ack({ response_action: 'update', view: messageModal('Stylize', errorText(error)) });
      return;
    }
    await ack({
      response_action: 'update',
      view: messageModal('Stylize', ':hourglass_flowing_sand: Getting your images ready…'),
    });
    const outcome = await startJob(deps, client, {
      teamId,
      channelId: meta.channelId,
      userId: body.user.id,
      choice,
      options,
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
        if (memberReply(error).log)
          log.error({ jobId, server: teamId, platform: 'slack', err: slackError(error) }, 'slack: cancel');
        await reply(errorText(error)).catch(() => {});
      }
    },
  );
}

/**
 * Opens a form whose content needs the database: a modal saying it is coming is opened at once (a trigger_id is
 * good for 3 s), then replaced with the form.
 */
async function openForm(
  client: SlackClient,
  triggerId: string,
  form: () => Promise<ModalView>,
): Promise<void> {
  const opened = await client.views.open({
    trigger_id: triggerId,
    view: messageModal('Stylize', ':hourglass_flowing_sand: Getting the form ready…'),
  });
  await client.views.update({ view_id: opened.view!.id!, view: await form() });
}

/**
 * The /stylize form for this member, offering what the workspace allows now (sizes, iterations, the defaults
 * within them), or, when the member can paint nothing now (a daily limit reached, too many paintings under way),
 * a message saying why and when that changes.
 */
async function stylizeForm(
  deps: SlackDeps,
  where: {
    teamId: string;
    userId: string;
    channelId: string;
    prefill?: { fileId: string; fileName: string };
  },
): Promise<ModalView> {
  const server = workspace(where.teamId);
  try {
    const { options, limits } = await checkRequest(deps.core, {
      server,
      requesterId: where.userId,
      defaults: deps.config.jobDefaults,
    });
    const { presets } = await deps.choices.get(server);
    const sizes = sizesAllowed(deps.config.sizes, limits.maxSize);
    return stylizeModal({
      channelId: where.channelId,
      hasPresets: presets.length > 0,
      sizes,
      size: preselectSize(sizes, options.size),
      maxIterations: limits.maxIterations,
      iterations: options.iterations,
      ...(where.prefill ? { prefill: where.prefill } : {}),
    });
  } catch (error) {
    if (memberReply(error).log)
      deps.log.error(
        { server: where.teamId, platform: 'slack', err: slackError(error) },
        'slack: opening the form',
      );
    return messageModal('Stylize', errorText(error));
  }
}

/**
 * `/stylize history` for this member: their latest paintings in the workspace, each linked to its thread (the
 * permalink of its request message). A link Slack will not give (the message deleted, the bot out of the channel)
 * is left out; the rest of the list still comes.
 */
async function historyFor(
  deps: SlackDeps,
  client: SlackClient,
  teamId: string,
  userId: string,
): Promise<string> {
  const entries = await memberHistory(deps.core, workspace(teamId), userId);
  const links = new Map<number, string>();
  await Promise.all(
    entries.map(async ({ job }) => {
      if (!job.threadId) return;
      try {
        const { permalink } = await client.chat.getPermalink({
          channel: job.channelId,
          message_ts: job.threadId,
        });
        if (permalink) links.set(job.id, permalink);
      } catch (error) {
        deps.log.debug({ jobId: job.id, server: teamId, err: slackError(error) }, 'slack: no permalink');
      }
    }),
  );
  return historyText(entries, links);
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

/**
 * Fetches the files (metadata first, then the downloads), posts the request in the channel (which also finds
 * out whether the bot may post there), submits the job, then turns the message into the job's and opens its
 * thread with the progress message. Returns what the form shows the member: where to follow the job, or why it
 * was refused.
 */
async function startJob(
  deps: SlackDeps,
  client: SlackClient,
  request: {
    teamId: string;
    channelId: string;
    userId: string;
    choice: StylizeChoice;
    options: CheckedOptions;
  },
): Promise<string> {
  const { core, log, events } = deps;
  const { teamId, channelId, userId, choice } = request;
  const fields = { server: teamId, platform: 'slack', channel: channelId };
  const refuse = (error: unknown, what: string) => {
    if (!reportDownloadFault(log, 'slack', error, fields) && memberReply(error).log)
      log.error({ ...fields, err: slackError(error) }, what);
    return errorText(error);
  };

  let files: Awaited<ReturnType<typeof fetchFiles>>;
  try {
    files = await fetchFiles(deps, client, [
      choice.contentFileId,
      ...(choice.styleFileId ? [choice.styleFileId] : []),
    ]);
  } catch (error) {
    return refuse(error, 'slack: could not fetch the files');
  }
  const [content, style] = files;
  const styles: SubmitRequest['styles'] = [];
  if (choice.preset) styles.push({ preset: choice.preset });
  if (style)
    styles.push({ image: style.bytes, name: style.name.replace(/\.[a-z0-9]+$/i, '') || 'your image' });
  try {
    // What the files' headers tell (not an image, a shape too long and narrow) is refused before any post.
    await checkImages(core, {
      server: workspace(teamId),
      content: content!.bytes,
      styles,
      options: request.options,
    });
  } catch (error) {
    return refuse(error, 'slack: could not check the files');
  }

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
    submitted = await submitJob(core, {
      server: workspace(teamId),
      channelId,
      threadId: parentTs,
      requesterId: userId,
      content: content!.bytes,
      styles,
      options: request.options,
    });
  } catch (error) {
    thread.resolve(undefined);
    await client.chat.delete({ channel: channelId, ts: parentTs }).catch(() => {});
    return refuse(error, 'slack: could not start a job');
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
    await setChatRefs(core, workspace(teamId), job.id, { chatRefs: encodeRefs('slack', refs) });
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
