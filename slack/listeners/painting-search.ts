import { type SlackDeps, workspace } from '../deps.ts';
import { slackError } from '../errors.ts';
import { presetOptions } from '../modal.ts';
import type { SuggestionArgs } from '../slack-types.ts';
import { teamOf } from './shared.ts';

/** The /stylize form's painting select, as the member types: any number of presets, found by title, artist or name. */
export async function paintingSearch(deps: SlackDeps, { ack, body }: SuggestionArgs): Promise<void> {
  const teamId = teamOf(body, body.view?.team_id);
  try {
    const { presets } = await deps.choices.get(workspace(teamId));
    await ack({ options: presetOptions(presets, body.value) });
  } catch (error) {
    deps.log.error({ server: teamId, platform: 'slack', err: slackError(error) }, 'slack: painting search');
    await ack({ options: [] });
  }
}
