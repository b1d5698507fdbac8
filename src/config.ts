import { join, resolve } from 'node:path';
import { z } from 'zod';
import { defaultWeightsDir } from '../worker/weights/download.ts';

/**
 * Everything the programs read from the environment, parsed once at start. Nothing else reads process.env.
 * Secrets (platform tokens) are added here by the chat adapters' issues and are never logged.
 */
const envSchema = z.object({
  /** Where the bot keeps its database, presets and caches. */
  DATA_DIR: z.string().default('data'),
  /** A local folder of preset paintings, named after the works (e.g. starry_night.jpg). */
  PRESETS_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  dataDir: string;
  weightsDir: string;
  presetsDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  return {
    dataDir,
    // A per-user cache by default ($STYLIZE_WEIGHTS_DIR overrides), so every checkout shares one download.
    weightsDir: defaultWeightsDir(env),
    presetsDir: resolve(e.PRESETS_DIR ?? join(dataDir, 'presets')),
    logLevel: e.LOG_LEVEL,
  };
}
