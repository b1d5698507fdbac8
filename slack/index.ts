import { serverChoiceCache } from '../chat/preset-choices.ts';
import { encodeRefs } from '../chat/refs.ts';
import type { Readiness } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import { type Core, type JobEvents, setChatRefs, variationChoices } from '../rules/index.ts';
import { registerAdmin } from './admin.ts';
import { adminCheck } from './admin-check.ts';
import { createSlackApp } from './app.ts';
import type { SlackConfig } from './config.ts';
import { registerDeletion } from './deletion.ts';
import { createSlackEvents } from './events.ts';
import { registerStylize } from './stylize.ts';
import { registerTimelapse } from './timelapse.ts';
import { registerVariations } from './variations.ts';

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
  const events = createSlackEvents({
    client: slack.app.client,
    config,
    log,
    saveRefs: (job, refs) =>
      setChatRefs(core, { platform: 'slack', id: job.server }, job.id, {
        chatRefs: encodeRefs('slack', refs),
      }),
    variations: (job) => variationChoices(core, job),
  });
  const deps = { core, config, log, events, admins: adminCheck(), choices: serverChoiceCache(core) };
  registerStylize(slack.app, deps);
  registerVariations(slack.app, deps);
  registerAdmin(slack.app, deps);
  registerTimelapse(slack.app, deps);
  registerDeletion(slack.app, deps);
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
