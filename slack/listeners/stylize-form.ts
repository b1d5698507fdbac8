import { preselectSize, sizesAllowed } from '../../lib/request-rules.ts';
import { checkRequest } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { messageModal, stylizeModal } from '../modal.ts';
import type { ModalView, SlackClient } from '../slack-types.ts';
import { faultText } from './shared.ts';

/** Where the form was asked for, and the photo of the message it was asked for on (the message shortcut). */
export interface FormRequest {
  teamId: string;
  userId: string;
  channelId: string;
  prefill?: { fileId: string; fileName: string };
}

/**
 * Opens the /stylize form for `request`. Its content needs the database, and a trigger_id is good for 3 s: a
 * modal saying it is coming is opened at once, then replaced with the form.
 */
export async function openStylizeForm(
  deps: SlackDeps,
  client: SlackClient,
  triggerId: string,
  request: FormRequest,
): Promise<void> {
  const opened = await client.views.open({
    trigger_id: triggerId,
    view: messageModal('Stylize', ':hourglass_flowing_sand: Getting the form ready…'),
  });
  await client.views.update({ view_id: opened.view!.id!, view: await stylizeForm(deps, request) });
}

/**
 * The /stylize form for this member, offering what the workspace allows now (sizes, iterations, the defaults
 * within them), or, when the member can paint nothing now (a daily limit reached, too many paintings under way),
 * a message saying why and when that changes.
 */
async function stylizeForm(deps: SlackDeps, request: FormRequest): Promise<ModalView> {
  const server = workspace(request.teamId);
  try {
    const { options, limits } = await checkRequest(deps.core, {
      server,
      requesterId: request.userId,
      defaults: deps.config.jobDefaults,
    });
    const { presets } = await deps.choices.get(server);
    const sizes = sizesAllowed(deps.config.sizes, limits.maxSize);
    return stylizeModal({
      channelId: request.channelId,
      hasPresets: presets.length > 0,
      sizes,
      size: preselectSize(sizes, options.size),
      maxIterations: limits.maxIterations,
      iterations: options.iterations,
      ...(request.prefill ? { prefill: request.prefill } : {}),
    });
  } catch (error) {
    const text = faultText(deps.log, error, { server: request.teamId }, 'slack: opening the form');
    return messageModal('Stylize', text);
  }
}
