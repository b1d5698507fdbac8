import { Command } from 'commander';
import type { CliSettings } from './settings.ts';
import { DEFAULT_WEIGHTS_URL, downloadWeights, weightsStatus } from './weights/download.ts';
import { cliProgressReporter } from './weights/progress.ts';

/** `stylize weights download|status`: install the VGG-19 convolution weights into the cache. */
export function weightsCommand(settings: () => CliSettings): Command {
  const weights = new Command('weights').description('install or inspect the VGG-19 weights');
  weights
    .command('download')
    .description('download the VGG-19 convolution weights (about 80 MB) into the cache, resumably')
    .option(
      '--from <dir|url>',
      'a local directory or base URL holding model.json or weights_manifest.json',
      DEFAULT_WEIGHTS_URL,
    )
    .option('--dir <dir>', 'where to install them (default: $STYLIZE_WEIGHTS_DIR or ~/.cache/stylize/vgg19)')
    .action(async (options: { from: string; dir?: string }) => {
      const dir = options.dir ?? settings().weightsDir;
      const progress = process.stderr.isTTY ? cliProgressReporter() : undefined;
      const result = await downloadWeights({ from: options.from, dir, onProgress: progress }).finally(() =>
        progress?.stop(),
      );
      process.stderr.write(
        `installed ${result.layers.length} layers in ${result.dir} (${result.downloaded} downloaded, ${result.skipped} already there)\n`,
      );
    });
  weights
    .command('status')
    .description('list the installed layers')
    .option('--dir <dir>', 'the weights directory')
    .action(async (options: { dir?: string }) => {
      const dir = options.dir ?? settings().weightsDir;
      process.stdout.write(`${JSON.stringify(await weightsStatus(dir))}\n`);
    });
  return weights;
}
