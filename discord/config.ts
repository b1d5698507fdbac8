/**
 * The Discord adapter's settings, from the environment: parseDiscordConfig for the bot, where Discord is
 * optional (bot/bot-config.ts), requireDiscordConfig for `npm run register`, which needs it. Nothing here reads
 * process.env itself: the entry points pass the environment in.
 *
 * The token is a secret: it is never logged, and errors name the variable, never its value.
 */
import { z } from 'zod';
import { type Env, positive } from '../lib/env.ts';

const DISCORD_CDN_HOSTS = ['https://cdn.discordapp.com', 'https://media.discordapp.net'] as const;

const httpUrl = (example: string) =>
  z
    .url({ protocol: /^https?$/, error: `must be an http(s) URL such as ${example}` })
    .transform((url) => url.replace(/\/+$/, ''));

const schema = z.object({
  DISCORD_TOKEN: z.string().trim().min(1, 'is required (the bot token from the Developer Portal)'),
  DISCORD_APPLICATION_ID: z
    .string()
    .trim()
    .regex(/^\d{17,20}$/, 'must be the application id (a snowflake: 17-20 digits)'),
  /** The REST base, e.g. http://127.0.0.1:8080/api (discord.js appends /v10); default Discord's. */
  DISCORD_API_URL: httpUrl('https://discord.com/api').optional(),
  /** discord.js's CDN base; its origin is also allowed for attachment downloads. Default Discord's. */
  DISCORD_CDN_URL: httpUrl('https://cdn.discordapp.com').optional(),
  /** The progress message of a job is edited at most this often. */
  DISCORD_PROGRESS_EDIT_MS: positive(5_000),
  /** Largest attachment (photo, style image, preset) downloaded. */
  DISCORD_MAX_ATTACHMENT_BYTES: positive(25 * 1024 * 1024),
  /** Time allowed for one attachment download, headers and body together. */
  DISCORD_DOWNLOAD_TIMEOUT_MS: positive(30_000),
});

export interface DiscordConfig {
  token: string;
  applicationId: string;
  /** Undefined: Discord's own API. */
  apiUrl: string | undefined;
  /** Undefined: Discord's own CDN. */
  cdnUrl: string | undefined;
  progressEditMs: number;
  download: AttachmentPolicy;
}

export interface AttachmentPolicy {
  /** Origins (scheme://host[:port]) attachments may be downloaded from, redirects included. */
  allowedOrigins: string[];
  maxBytes: number;
  timeoutMs: number;
}

/** What `npm run register` needs: kept to these three so registering needs nothing else. */
export type DiscordRegisterConfig = Pick<DiscordConfig, 'token' | 'applicationId' | 'apiUrl'>;

/**
 * The Discord settings, or undefined when Discord is not configured (neither DISCORD_TOKEN nor
 * DISCORD_APPLICATION_ID set: a Slack-only deployment). Throws, naming the variables, when they are invalid.
 */
export function parseDiscordConfig(env: Env): DiscordConfig | undefined {
  if (!env.DISCORD_TOKEN?.trim() && !env.DISCORD_APPLICATION_ID?.trim()) return undefined;
  return requireDiscordConfig(env);
}

/** As parseDiscordConfig, but Discord must be configured. */
export function requireDiscordConfig(env: Env): DiscordConfig {
  const blank = (value: string | undefined) => (value?.trim() ? value : undefined);
  const parsed = schema.safeParse({
    DISCORD_TOKEN: env.DISCORD_TOKEN ?? '',
    DISCORD_APPLICATION_ID: env.DISCORD_APPLICATION_ID ?? '',
    DISCORD_API_URL: blank(env.DISCORD_API_URL),
    DISCORD_CDN_URL: blank(env.DISCORD_CDN_URL),
    DISCORD_PROGRESS_EDIT_MS: blank(env.DISCORD_PROGRESS_EDIT_MS),
    DISCORD_MAX_ATTACHMENT_BYTES: blank(env.DISCORD_MAX_ATTACHMENT_BYTES),
    DISCORD_DOWNLOAD_TIMEOUT_MS: blank(env.DISCORD_DOWNLOAD_TIMEOUT_MS),
  });
  if (!parsed.success) {
    // Issues carry paths and messages only; zod's messages here never include the input value.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    token: e.DISCORD_TOKEN,
    applicationId: e.DISCORD_APPLICATION_ID,
    apiUrl: e.DISCORD_API_URL,
    cdnUrl: e.DISCORD_CDN_URL,
    progressEditMs: e.DISCORD_PROGRESS_EDIT_MS,
    download: {
      allowedOrigins: [
        ...DISCORD_CDN_HOSTS,
        ...(e.DISCORD_CDN_URL ? [new URL(e.DISCORD_CDN_URL).origin] : []),
      ],
      maxBytes: e.DISCORD_MAX_ATTACHMENT_BYTES,
      timeoutMs: e.DISCORD_DOWNLOAD_TIMEOUT_MS,
    },
  };
}
