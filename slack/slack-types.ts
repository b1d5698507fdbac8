import type {
  AllMiddlewareArgs,
  BlockAction,
  MessageShortcut,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
  SlackViewMiddlewareArgs,
  types,
  webApi,
} from '@slack/bolt';

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

/** What Bolt passes each kind of listener (slack/listeners/), as in Bolt's TypeScript examples. */
export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
export type ShortcutArgs = SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs;
export type SuggestionArgs = SlackOptionsMiddlewareArgs<'block_suggestion'> & AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;
