import { z } from 'zod';
import { type Env, parseEnv } from '../lib/env.ts';
import { OFFERED_SIZES } from '../lib/request-rules.ts';
import type { JobOptionsInput } from '../rules/index.ts';

/**
 * The Slack app's settings, parsed from the environment the bot's entry point passes in (bot/bot-config.ts):
 * nothing in slack reads process.env. The tokens and the signing secret are secrets: never logged.
 */
export interface SlackConfig {
  /** xoxb-…: the bot token, for the Web API and for downloading members' files. */
  botToken: string;
  /** Verifies that HTTP requests come from Slack (HTTP mode; unused in Socket Mode). */
  signingSecret: string;
  /** xapp-… with connections:write: Socket Mode instead of a public request URL. */
  appToken: string | undefined;
  /** The Web API's base URL, ending in `/` (https://slack.com/api/ unless pointed at a local server). */
  apiUrl: string;
  /** HTTP mode: the port and address the request URL's server listens on (undefined: every address). */
  port: number;
  host: string | undefined;
  /** Files fetched from Slack (the photo, a style image): the largest accepted, and how long a download may take. */
  files: { maxBytes: number; timeoutMs: number };
  /** Progress messages are edited at most this often per job (Slack allows about one write per second). */
  progressEveryMs: number;
  /** Preview images posted in a job's thread while it paints, evenly spaced (1: one at halfway; 0: none). */
  previewsPerJob: number;
  /** The sizes the modal offers (the longer side, in pixels), those a workspace's limit allows (sizesAllowed). */
  sizes: number[];
  /** Options every Slack job gets unless the member chose otherwise in the modal (e.g. iterations, layers). */
  jobDefaults: JobOptionsInput;
}

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const slackEnvSchema = z.object({
  SLACK_BOT_TOKEN: optional,
  SLACK_SIGNING_SECRET: optional,
  SLACK_APP_TOKEN: optional,
  SLACK_API_URL: optional.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://slack.com/api/' })
      .optional(),
  ),
  SLACK_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  SLACK_HOST: optional,
});

/**
 * The Slack settings, or undefined when SLACK_BOT_TOKEN is not set (the bot then runs without Slack), with the
 * operator's `jobDefaults` (the core's STYLIZE_ defaults, shared with Discord and the CLI). Throws a one-line
 * error naming what is wrong.
 */
export function parseSlackConfig(env: Env, jobDefaults: JobOptionsInput = {}): SlackConfig | undefined {
  const e = parseEnv(slackEnvSchema, env);
  if (e.SLACK_BOT_TOKEN === undefined) {
    if (e.SLACK_SIGNING_SECRET !== undefined || e.SLACK_APP_TOKEN !== undefined) {
      throw new Error('invalid configuration: SLACK_BOT_TOKEN is needed to connect to Slack');
    }
    return undefined;
  }
  if (e.SLACK_APP_TOKEN === undefined && e.SLACK_SIGNING_SECRET === undefined) {
    throw new Error(
      'invalid configuration: SLACK_SIGNING_SECRET is needed for Slack over HTTP ' +
        '(or set SLACK_APP_TOKEN for Socket Mode)',
    );
  }
  if (e.SLACK_APP_TOKEN !== undefined && !e.SLACK_APP_TOKEN.startsWith('xapp-')) {
    throw new Error('invalid configuration: SLACK_APP_TOKEN must be an app-level token (xapp-…)');
  }
  const apiUrl = e.SLACK_API_URL ?? DEFAULT_SLACK_API_URL;
  return {
    botToken: e.SLACK_BOT_TOKEN,
    signingSecret: e.SLACK_SIGNING_SECRET ?? '',
    appToken: e.SLACK_APP_TOKEN,
    apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    port: e.SLACK_PORT,
    host: e.SLACK_HOST,
    files: { maxBytes: 25 * 1024 * 1024, timeoutMs: 30_000 },
    progressEveryMs: 3_000,
    previewsPerJob: 1,
    sizes: OFFERED_SIZES.map((s) => s.px),
    jobDefaults,
  };
}
