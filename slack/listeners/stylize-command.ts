import type { SlackDeps } from '../deps.ts';
import type { CommandArgs, SlackClient } from '../slack-types.ts';
import { helpAnswer } from './help.ts';
import { historyAnswer } from './history.ts';
import { statusAnswer } from './status.ts';
import { openStylizeForm } from './stylize-form.ts';

/**
 * `/stylize` opens the form (stylize-form.ts); `/stylize status JOB`, `/stylize history` and `/stylize help` are
 * answered to the member alone; anything else gets the usage.
 */
export const STYLIZE_COMMAND = '/stylize';

const USAGE =
  '`/stylize` opens the form: your photo, a painting, strength, size and iterations. `/stylize status JOB` tells ' +
  'where a job stands; `/stylize history` lists your latest paintings; `/stylize help` says how to ask, the ' +
  'options and what you have left today. On a message with an image, the “Stylize this image” shortcut (in the ' +
  'message’s ⋮ menu) paints it.';

export async function stylizeCommand(
  deps: SlackDeps,
  { command, ack, client, respond }: CommandArgs,
): Promise<void> {
  const { team_id: teamId, user_id: userId } = command;
  const text = command.text.trim();
  if (text === '') {
    await ack();
    await openStylizeForm(deps, client, command.trigger_id, {
      teamId,
      userId,
      channelId: command.channel_id,
    });
    return;
  }
  const answer = subcommand(deps, client, command, text);
  if (!answer) {
    await ack({ response_type: 'ephemeral', text: USAGE });
    return;
  }
  // Acknowledged first: the answers read the database, and the history asks Slack for a link per painting.
  await ack();
  await respond({ response_type: 'ephemeral', text: await answer() });
}

/** The answer of `/stylize history`, `/stylize help` or `/stylize status JOB`; undefined for any other text. */
function subcommand(
  deps: SlackDeps,
  client: SlackClient,
  { team_id: teamId, user_id: userId }: CommandArgs['command'],
  text: string,
): (() => Promise<string>) | undefined {
  if (/^history$/i.test(text)) return () => historyAnswer(deps, client, teamId, userId);
  if (/^help$/i.test(text)) return () => helpAnswer(deps, teamId, userId);
  const status = /^status\s+#?(\d+)$/i.exec(text);
  if (status) return () => statusAnswer(deps, teamId, Number(status[1]));
  return undefined;
}
