import type { ServerChoiceCache } from '../chat/preset-choices.ts';
import type { SlackRefs } from '../chat/refs.ts';
import type { Logger } from '../lib/log.ts';
import type { Core, JobView, ServerRef } from '../rules/index.ts';
import type { AdminCheck } from './admin-check.ts';
import type { SlackConfig } from './config.ts';
import type { SlackJobEvents } from './events.ts';
import { type FetchedFile, fetchSlackFiles } from './files.ts';
import type { SlackClient } from './slack-types.ts';

/** What the Bolt listeners share. */
export interface SlackDeps {
  core: Core;
  config: SlackConfig;
  log: Logger;
  events: SlackJobEvents;
  admins: AdminCheck;
  /** Each workspace's presets and limits, for the form (see serverChoiceCache). */
  choices: ServerChoiceCache;
  /** Stores a job's Slack message ids in the job (chatRefs): the same writer the job events use. */
  saveRefs(job: JobView, refs: SlackRefs): Promise<void>;
  /** Per thread, the variation being set up there (variation-buttons.ts sets them up one at a time). */
  variationSetups: Map<string, Promise<unknown>>;
}

/** A Slack workspace as the core names servers. */
export const workspace = (teamId: string): ServerRef => ({ platform: 'slack', id: teamId });

/** Members' files, by the ids Slack gave in a form or a message, fetched with the bot token (fetchSlackFiles). */
export function fetchFiles(
  deps: SlackDeps,
  client: SlackClient,
  fileIds: readonly string[],
): Promise<FetchedFile[]> {
  const { config } = deps;
  return fetchSlackFiles(client, fileIds, {
    ...config.files,
    token: config.botToken,
    extraOrigin: new URL(config.apiUrl).origin,
  });
}
