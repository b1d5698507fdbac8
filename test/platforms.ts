/**
 * The two fake platforms (test/discord, test/slack) as the end-to-end tests of the bot use them: started with the
 * commands registered, the chat variables that point a bot at them, a member on Slack sending the form and one on
 * Discord sending /stylize.
 */
import { expect } from 'vitest';
import { registerCommands } from '../discord/commands/register.ts';
import { type DiscordConfig, requireDiscordConfig } from '../discord/config.ts';
import type { SlackConfig } from '../slack/config.ts';
import { FakeDiscord } from './discord/fake-discord.ts';
import { FakeSlack } from './slack/fake-slack.ts';
import {
  type FormView,
  formState,
  postSigned,
  slashCommand,
  viewSubmission,
  type Who,
} from './slack/requests.ts';

export const SECRET = 'test-signing-secret';
export const TOKEN = 'xoxb-test-token';
export const SEND = 'POST /channels/:channelId/messages';
export const alice: Who = { teamId: 'T0TEST', userId: 'U0ALICE', channelId: 'C0ART' };

/** A fake Discord with the bot's commands registered to its guild. */
export async function startFakeDiscord(): Promise<FakeDiscord> {
  const discord = await FakeDiscord.start();
  await registerCommands({
    token: discord.token,
    applicationId: discord.applicationId,
    apiUrl: discord.apiUrl,
    guildId: discord.guildId,
  });
  return discord;
}

/** The Discord adapter's settings for a bot served by this fake (progress edited every 250 ms). */
export function discordTestConfig(discord: FakeDiscord): DiscordConfig {
  return requireDiscordConfig({
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CDN_URL: discord.cdnUrl,
    DISCORD_PROGRESS_EDIT_MS: '250',
  });
}

/** The Slack adapter's settings for a bot served by this fake over HTTP on a free port of 127.0.0.1. */
export function slackTestConfig(slack: FakeSlack, extra: Partial<SlackConfig> = {}): SlackConfig {
  return {
    botToken: slack.botToken,
    signingSecret: SECRET,
    appToken: undefined,
    apiUrl: slack.apiUrl,
    port: 0,
    host: '127.0.0.1',
    files: { maxBytes: 1024 * 1024, timeoutMs: 5_000 },
    progressEveryMs: 0,
    previewsPerJob: 1,
    sizes: [24, 32],
    jobDefaults: { iterations: 2, layers: 'shallow' },
    ...extra,
  };
}

/** The two fake platforms, fresh for each test. */
export async function platforms() {
  const discord = await startFakeDiscord();
  const slack = new FakeSlack(TOKEN, alice.teamId);
  await slack.start();
  slack.users.set(alice.userId, {});
  return { discord, slack };
}
export type Platforms = Awaited<ReturnType<typeof platforms>>;

/** A member on Slack: opens the form (the view Slack was asked to show) and sends it. */
export function slackMember(slack: FakeSlack, endpoint: () => string) {
  const post = (body: string) => postSigned(endpoint(), body, { secret: SECRET });
  return {
    async openForm(): Promise<FormView> {
      const before = slack.callsOf('views.update').length;
      const trigger = `trigger-${Math.random().toString(36).slice(2)}`;
      expect(
        (
          await post(
            slashCommand(alice, '/stylize', '', { triggerId: trigger, responseUrl: slack.responseUrl() }),
          )
        ).status,
      ).toBe(200);
      const call = await slack.waitForCall(
        'views.update',
        (c) => slack.callsOf('views.update').indexOf(c) >= before && c.args.view_id !== undefined,
      );
      return call.args.view as FormView;
    },
    /** Sends the form with this photo and the painting; resolves with what the form shows in the end. */
    async send(view: FormView, photo: Buffer, preset = 'starry_night'): Promise<string> {
      const viewId = `V${Math.random().toString(36).slice(2)}`;
      const file = slack.addFile('photo.png', photo);
      const given = {
        content: { value: { type: 'file_input', files: [slack.fileObject(file)] } },
        preset: {
          value: {
            type: 'external_select',
            selected_option: { text: { type: 'plain_text', text: preset }, value: preset },
          },
        },
      };
      const response = await post(
        viewSubmission(
          alice,
          {
            id: viewId,
            callback_id: view.callback_id,
            private_metadata: view.private_metadata,
            blocks: view.blocks,
          },
          formState(view.blocks, given),
        ),
      );
      expect(response.status).toBe(200);
      const outcome = await slack.waitForCall(
        'views.update',
        (c) => c.args.view_id === viewId && !/Getting your images ready/.test(JSON.stringify(c.args.view)),
        60_000,
      );
      return JSON.stringify(outcome.args.view);
    },
  };
}

/** Bob's /stylize on Discord: the text of an answer given at once (ephemeral), or undefined when deferred. */
export async function discordAnswer(discord: FakeDiscord, image: Buffer, style = 'starry_night') {
  const sent = await discord.sendSlashCommand({
    name: 'stylize',
    options: { image: { filename: 'photo.png', bytes: image }, style },
    user: discord.users.bob,
  });
  const callback = await discord.waitForCallback(sent, 10_000);
  const body = callback.body as { type: number; data?: { content?: string; flags?: number } };
  return { sent, type: body.type, content: body.data?.content, flags: body.data?.flags };
}

/** The chat variables of a bot served by these fakes (Slack over HTTP on a free port of 127.0.0.1). */
export function chatEnv({ discord, slack }: Platforms): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CDN_URL: discord.cdnUrl,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_PORT: '0',
    SLACK_HOST: '127.0.0.1',
  };
}
