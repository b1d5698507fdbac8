import { PRESET_NAME } from '../../lib/request-rules.ts';
import { addPreset } from '../../rules/index.ts';
import { fetchFiles, type SlackDeps, workspace } from '../deps.ts';
import { fileId, fileInput, messageModal, type Parsed, plain, type StateValues, VALUE } from '../modal.ts';
import { escapeText } from '../render.ts';
import type { ModalView, SlackClient, ViewArgs } from '../slack-types.ts';
import { ADMIN_REFUSAL } from './admin-subcommands.ts';
import { faultText, showOutcome, teamOf } from './shared.ts';

/**
 * The admin's form for `/stylize-admin preset add NAME` (the name, editable, and the painting) and its
 * submission: checked by Slack's form, then, once acknowledged, the admin checked again, the painting fetched
 * and added as the workspace's preset; the form shows the outcome.
 */
export const PRESET_MODAL = 'stylize_preset_modal';

/** Block ids of the form; each input block's element has the action id `value`. */
const PRESET_FIELD = { name: 'preset_name', file: 'preset_file' } as const;

export function presetModal(name: string): ModalView {
  return {
    type: 'modal',
    callback_id: PRESET_MODAL,
    title: plain('Add a preset'),
    submit: plain('Add'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: PRESET_FIELD.name,
        label: plain('Name'),
        hint: plain(`${PRESET_NAME.rule} Members choose it in /stylize.`),
        element: {
          type: 'plain_text_input',
          action_id: VALUE,
          initial_value: name,
          max_length: PRESET_NAME.maxLength,
        },
      },
      fileInput(false, PRESET_FIELD.file, 'Painting'),
    ],
  };
}

export function parsePresetSubmission(values: StateValues): Parsed<{ name: string; fileId: string }> {
  const name = values[PRESET_FIELD.name]?.[VALUE]?.value?.trim() ?? '';
  const file = fileId(values, PRESET_FIELD.file);
  const errors: Record<string, string> = {};
  if (name === '') errors[PRESET_FIELD.name] = 'Give the preset a name.';
  if (!file) errors[PRESET_FIELD.file] = 'Upload the painting.';
  if (!file || name === '') return { ok: false, errors };
  return { ok: true, value: { name, fileId: file } };
}

export async function presetSubmitted(deps: SlackDeps, { ack, body, view, client }: ViewArgs): Promise<void> {
  const parsed = parsePresetSubmission(view.state.values);
  if (!parsed.ok) {
    await ack({ response_action: 'errors', errors: parsed.errors });
    return;
  }
  await ack({
    response_action: 'update',
    view: messageModal('Add a preset', ':hourglass: Saving the preset…'),
  });
  const outcome = await addAsAdmin(deps, client, teamOf(body, view.team_id), body.user.id, parsed.value);
  await showOutcome(deps, client, { id: view.id, title: 'Add a preset' }, outcome);
}

/** Adds the preset if the member is still an admin; returns what the form shows. */
async function addAsAdmin(
  deps: SlackDeps,
  client: SlackClient,
  teamId: string,
  userId: string,
  preset: { name: string; fileId: string },
): Promise<string> {
  try {
    if (!(await deps.admins.isAdmin(client, userId))) return ADMIN_REFUSAL;
    const [file] = await fetchFiles(deps, client, [preset.fileId]);
    await addPreset(deps.core, workspace(teamId), preset.name, file!.bytes, { userId, isAdmin: true });
    deps.choices.delete(workspace(teamId));
    return `:white_check_mark: Members can now choose *${escapeText(preset.name)}* in /stylize.`;
  } catch (error) {
    return faultText(deps.log, error, { server: teamId }, 'slack: preset add');
  }
}
