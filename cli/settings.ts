import { type JobDefaults, parseDataPaths, parseJobDefaults } from '../jobs/worker-api.ts';
import type { Env } from '../lib/env.ts';
import { defaultWeightsDir } from '../lib/weights-location.ts';

/**
 * What the `stylize` command reads from the environment: where the presets and the weights are, and the operator's
 * defaults for its options (STYLIZE_SIZE and the rest, as the bot's). Nothing of the database, the workers or the
 * chat platforms.
 */
export interface CliSettings {
  presetsDir: string;
  weightsDir: string;
  jobDefaults: JobDefaults;
}

/** Parsed the first time a command asks (`stylize --help` reads nothing), then kept. */
export function cliSettings(env: Env): () => CliSettings {
  let settings: CliSettings | undefined;
  return () => {
    settings ??= {
      presetsDir: parseDataPaths(env).presetsDir,
      weightsDir: defaultWeightsDir(env),
      jobDefaults: parseJobDefaults(env),
    };
    return settings;
  };
}
