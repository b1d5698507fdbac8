import type { App } from '@slack/bolt';
import { serverChoiceCache } from '../chat/preset-choices.ts';
import { encodeRefs, type SlackRefs } from '../chat/refs.ts';
import type { Readiness } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import { type Core, type JobEvents, setChatRefs, variationChoices } from '../rules/index.ts';
import { adminCheck } from './admin-check.ts';
import { createSlackApp } from './app.ts';
import type { SlackConfig } from './config.ts';
import { type SlackDeps, workspace } from './deps.ts';
import { createSlackEvents } from './events.ts';
import { ADMIN_COMMAND, adminCommand } from './listeners/admin-command.ts';
import { cancelPressed } from './listeners/cancel-button.ts';
import { deletePressed } from './listeners/delete-button.ts';
import { paintingSearch } from './listeners/painting-search.ts';
import { PRESET_MODAL, presetSubmitted } from './listeners/preset-form.ts';
import { STYLIZE_COMMAND, stylizeCommand } from './listeners/stylize-command.ts';
import { STYLIZE_SHORTCUT, stylizeShortcut } from './listeners/stylize-shortcut.ts';
import { stylizeSubmitted } from './listeners/stylize-submission.ts';
import { timelapsePressed } from './listeners/timelapse-button.ts';
import { variationPressed } from './listeners/variation-buttons.ts';
import { FIELD, STYLIZE_MODAL } from './modal.ts';
import { CANCEL_ACTION, DELETE_ACTION, TIMELAPSE_ACTION, VARIATION_ACTION_PREFIX } from './render.ts';

/**
 * The Slack adapter: `/stylize` (a form), the "Stylize this image" message shortcut, `/stylize-admin`, and the
 * job events of Slack jobs (progress and results in each job's thread). The bot passes `events` to the core's
 * notifier (they ignore other platforms' jobs) and calls `stop` when it shuts down.
 */
export { parseSlackConfig, type SlackConfig } from './config.ts';

export interface SlackAdapter {
  events: JobEvents;
  /** HTTP mode: the port the request URL's server listens on (SLACK_PORT, or the one picked for port 0). */
  port: number | undefined;
  /** Ready once started: its request URL's server listens (or its Socket Mode connection is open). */
  readiness(): Readiness;
  stop(): Promise<void>;
}

export async function startSlack(core: Core, config: SlackConfig, log: Logger): Promise<SlackAdapter> {
  const slack = createSlackApp(config, log);
  const saveRefs = (job: { id: number; server: string }, refs: SlackRefs) =>
    setChatRefs(core, workspace(job.server), job.id, { chatRefs: encodeRefs('slack', refs) });
  const events = createSlackEvents({
    client: slack.app.client,
    config,
    log,
    saveRefs,
    variations: (job) => variationChoices(core, job),
  });
  const deps: SlackDeps = {
    core,
    config,
    log,
    events,
    saveRefs,
    admins: adminCheck(),
    choices: serverChoiceCache(core),
    variationSetups: new Map(),
  };
  registerListeners(slack.app, deps);
  const { port } = await slack.start();
  return {
    events,
    port,
    readiness: () => ({ ready: true }),
    async stop() {
      await slack.stop();
      await events.stop();
    },
  };
}

/**
 * Every listener of the app, each a named function in slack/listeners/. The app acknowledges each in time
 * whatever it waits for: createSlackApp put the first-answer guard on these registration methods.
 */
function registerListeners(app: App, deps: SlackDeps): void {
  const buttons = (action_id: string | RegExp) => ({ action_id, type: 'block_actions' as const });
  app.command(STYLIZE_COMMAND, (args) => stylizeCommand(deps, args));
  app.command(ADMIN_COMMAND, (args) => adminCommand(deps, args));
  app.shortcut({ callback_id: STYLIZE_SHORTCUT, type: 'message_action' }, (args) =>
    stylizeShortcut(deps, args),
  );
  app.options<'block_suggestion'>({ type: 'block_suggestion', block_id: FIELD.preset }, (args) =>
    paintingSearch(deps, args),
  );
  app.view(STYLIZE_MODAL, (args) => stylizeSubmitted(deps, args));
  app.view(PRESET_MODAL, (args) => presetSubmitted(deps, args));
  app.action(buttons(CANCEL_ACTION), (args) => cancelPressed(deps, args));
  app.action(buttons(new RegExp(`^${VARIATION_ACTION_PREFIX}`)), (args) => variationPressed(deps, args));
  app.action(buttons(TIMELAPSE_ACTION), (args) => timelapsePressed(deps, args));
  app.action(buttons(DELETE_ACTION), (args) => deletePressed(deps, args));
}
