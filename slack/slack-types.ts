import type { types, webApi } from '@slack/bolt';

/** Slack's types, through @slack/bolt (which re-exports @slack/types and @slack/web-api). */
export type SlackClient = webApi.WebClient;
export type KnownBlock = types.KnownBlock;
export type ModalView = types.ModalView;
export type PlainTextOption = types.PlainTextOption;

/** A message's text (the notification and fallback) and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
