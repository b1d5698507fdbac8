/**
 * What `npm run register` reads from the environment. Kept apart from src/config.ts (which the bot's other
 * parts are still changing) so registering commands needs neither the database nor the engine's settings.
 * The token is a secret: it is never logged, and errors name the variable, never its value.
 */
import { z } from 'zod';

const schema = z.object({
  DISCORD_TOKEN: z.string().trim().min(1, 'is required (the bot token from the Developer Portal)'),
  DISCORD_APPLICATION_ID: z
    .string()
    .trim()
    .regex(/^\d{17,20}$/, 'must be the application id (a snowflake: 17-20 digits)'),
  /** The REST base, e.g. http://127.0.0.1:8080/api (discord.js appends /v10); default Discord's. */
  DISCORD_API_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://discord.com/api' })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
});

export interface DiscordRegisterConfig {
  token: string;
  applicationId: string;
  /** Undefined: Discord's own API. */
  apiUrl: string | undefined;
}

export function loadDiscordConfig(env: NodeJS.ProcessEnv = process.env): DiscordRegisterConfig {
  const parsed = schema.safeParse({
    DISCORD_TOKEN: env.DISCORD_TOKEN ?? '',
    DISCORD_APPLICATION_ID: env.DISCORD_APPLICATION_ID ?? '',
    DISCORD_API_URL: env.DISCORD_API_URL || undefined,
  });
  if (!parsed.success) {
    // Issues carry paths and messages only; zod's messages here never include the input value.
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return {
    token: parsed.data.DISCORD_TOKEN,
    applicationId: parsed.data.DISCORD_APPLICATION_ID,
    apiUrl: parsed.data.DISCORD_API_URL,
  };
}
