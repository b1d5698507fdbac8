import type { Core, ServerRef } from '../core/index.ts';
import type { Logger } from '../log.ts';
import type { AdminCheck } from './admin.ts';
import type { SlackConfig } from './config.ts';
import type { SlackJobEvents } from './events.ts';
import { type FetchedFile, fetchSlackFile } from './files.ts';
import type { SlackClient } from './slack-types.ts';

/** What the Bolt listeners share. */
export interface SlackDeps {
  core: Core;
  config: SlackConfig;
  log: Logger;
  events: SlackJobEvents;
  admins: AdminCheck;
}

/** A Slack workspace as the core names servers. */
export const workspace = (teamId: string): ServerRef => ({ platform: 'slack', id: teamId });

/** A member's file, by the id Slack gave in a form or a message, fetched with the bot token. */
export function fetchFile(deps: SlackDeps, client: SlackClient, fileId: string): Promise<FetchedFile> {
  const { config } = deps;
  return fetchSlackFile(client, fileId, {
    ...config.files,
    token: config.botToken,
    extraOrigin: new URL(config.apiUrl).origin,
  });
}
