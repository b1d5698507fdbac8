import { createHmac } from 'node:crypto';

/**
 * Requests as Slack sends them to an app's request URL: slash commands form-encoded, interactions as a
 * form-encoded `payload` of JSON, each signed (v0: HMAC-SHA256 of `v0:TIMESTAMP:BODY` with the signing secret).
 */
export interface SignedOptions {
  secret: string;
  /** Seconds since the epoch; now unless given (an old one makes a stale request). */
  timestamp?: number;
  /** Sign with this secret instead (a forged request). */
  signWith?: string;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlackResponse {
  status: number;
  text: string;
  json(): unknown;
}

export async function postSigned(url: string, body: string, options: SignedOptions): Promise<SlackResponse> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(options.signWith ?? options.secret, timestamp, body),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

export interface Who {
  teamId: string;
  userId: string;
  channelId: string;
}

export function slashCommand(
  who: Who,
  command: string,
  text: string,
  extra: { triggerId: string; responseUrl: string },
): string {
  return new URLSearchParams({
    token: 'verification-token',
    team_id: who.teamId,
    team_domain: 'test',
    channel_id: who.channelId,
    channel_name: 'general',
    user_id: who.userId,
    user_name: who.userId.toLowerCase(),
    command,
    text,
    api_app_id: 'A0TEST',
    response_url: extra.responseUrl,
    trigger_id: extra.triggerId,
  }).toString();
}

export const interaction = (payload: Record<string, unknown>): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

const team = (who: Who) => ({ id: who.teamId, domain: 'test' });
const user = (who: Who) => ({ id: who.userId, name: who.userId.toLowerCase(), team_id: who.teamId });

/** A block_suggestion: Slack asking for an external select's options for what the member typed. */
export function blockSuggestion(
  who: Who,
  view: { id: string; callback_id: string },
  select: { block_id: string; action_id: string },
  value: string,
): string {
  return interaction({
    type: 'block_suggestion',
    team: team(who),
    user: user(who),
    api_app_id: 'A0TEST',
    token: 'verification-token',
    container: { type: 'view', view_id: view.id },
    block_id: select.block_id,
    action_id: select.action_id,
    value,
    view: {
      id: view.id,
      team_id: who.teamId,
      type: 'modal',
      callback_id: view.callback_id,
      state: { values: {} },
    },
  });
}

/** A view_submission of a modal the app opened: `values` as Slack reports them, by block and action id. */
export function viewSubmission(
  who: Who,
  view: { id: string; callback_id: string; private_metadata?: string; blocks?: unknown[] },
  values: Record<string, Record<string, Record<string, unknown>>>,
): string {
  return interaction({
    type: 'view_submission',
    team: team(who),
    user: user(who),
    api_app_id: 'A0TEST',
    token: 'verification-token',
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    view: {
      id: view.id,
      team_id: who.teamId,
      type: 'modal',
      callback_id: view.callback_id,
      private_metadata: view.private_metadata ?? '',
      state: { values },
      hash: 'hash',
      title: { type: 'plain_text', text: 'Stylize' },
      blocks: view.blocks ?? [],
      app_id: 'A0TEST',
      bot_id: 'B0BOT',
      root_view_id: view.id,
      previous_view_id: null,
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
    },
  });
}

/** A modal's blocks, as far as the tests read them. */
export interface FormElement {
  type: string;
  action_id: string;
  initial_option?: unknown;
  initial_value?: string;
  options?: { value: string }[];
  filetypes?: string[];
  max_files?: number;
  min_value?: string;
  max_value?: string;
  min_query_length?: number;
}
export interface FormBlock {
  type: string;
  block_id?: string;
  optional?: boolean;
  element?: FormElement;
}
export interface FormView {
  callback_id: string;
  private_metadata: string;
  blocks: FormBlock[];
}

/**
 * The state Slack submits for a form: every input block, with what the member entered where given and the
 * element's empty or initial value elsewhere.
 */
export function formState(
  blocks: FormBlock[],
  given: Record<string, Record<string, Record<string, unknown>>>,
): Record<string, Record<string, Record<string, unknown>>> {
  const values: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const block of blocks) {
    const element = block.element;
    if (block.type !== 'input' || !element || !block.block_id) continue;
    const empty: Record<string, unknown> = { type: element.type };
    if (element.type === 'file_input') empty.files = [];
    if (element.type === 'static_select' || element.type === 'external_select') {
      empty.selected_option = element.initial_option ?? null;
    }
    if (element.type === 'checkboxes') empty.selected_options = [];
    if (element.type === 'number_input' || element.type === 'plain_text_input') {
      empty.value = element.initial_value ?? null;
    }
    values[block.block_id] = given[block.block_id] ?? { [element.action_id]: empty };
  }
  return values;
}

/** A click on a button of a message the app posted. */
export function blockAction(
  who: Who,
  message: { ts: string },
  action: { action_id: string; value: string; block_id?: string },
  responseUrl: string,
): string {
  return interaction({
    type: 'block_actions',
    team: team(who),
    user: user(who),
    api_app_id: 'A0TEST',
    token: 'verification-token',
    trigger_id: `trigger-${Math.random().toString(36).slice(2)}`,
    container: { type: 'message', message_ts: message.ts, channel_id: who.channelId, is_ephemeral: false },
    channel: { id: who.channelId, name: 'general' },
    message: { type: 'message', ts: message.ts, text: '' },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        block_id: action.block_id ?? 'b',
        action_id: action.action_id,
        value: action.value,
        text: { type: 'plain_text', text: 'Cancel' },
        action_ts: String(Date.now() / 1000),
      },
    ],
  });
}

/** A message shortcut on a message with these files. */
export function messageShortcut(
  who: Who,
  callbackId: string,
  message: { ts: string; files?: Record<string, unknown>[] },
  extra: { triggerId: string; responseUrl: string },
): string {
  return interaction({
    type: 'message_action',
    callback_id: callbackId,
    trigger_id: extra.triggerId,
    message_ts: message.ts,
    response_url: extra.responseUrl,
    message: { type: 'message', user: 'U0OTHER', ts: message.ts, text: 'look', files: message.files },
    user: user(who),
    channel: { id: who.channelId, name: 'general' },
    team: team(who),
    token: 'verification-token',
    action_ts: String(Date.now() / 1000),
  });
}
