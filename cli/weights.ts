import { Command } from 'commander';
import { formatBytes } from '../engine/memory.ts';
import type { CliSettings } from './settings.ts';
import { formatTable } from './table.ts';
import {
  DEFAULT_WEIGHTS_URL,
  downloadWeights,
  VGG19_CONV_LAYERS,
  type WeightsStatus,
  weightsStatus,
} from './weights/download.ts';
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
    .description('list the installed layers, by VGG-19 block')
    .option('--dir <dir>', 'the weights directory')
    .option('--json', 'print the status as JSON', false)
    .action(async (options: { dir?: string; json: boolean }) => {
      const status = await weightsStatus(options.dir ?? settings().weightsDir);
      if (options.json) process.stdout.write(`${JSON.stringify(status)}\n`);
      else process.stdout.write(statusTable(status));
    });
  return weights;
}

/**
 * The status for people: one row per VGG-19 block with its layers in the paper's names (block4_conv1 is
 * conv4_1) and whether they are installed, then where, how much, and what is wrong.
 */
function statusTable(status: WeightsStatus): string {
  const blocks = new Map<string, string[]>();
  for (const layer of VGG19_CONV_LAYERS) {
    const block = /^block(\d+)_/.exec(layer)![1]!;
    blocks.set(block, [...(blocks.get(block) ?? []), layer]);
  }
  const rows = [...blocks].map(([block, layers]) => {
    const missing = layers.filter((l) => status.missing.includes(l));
    const state =
      missing.length === 0 ? 'installed' : missing.length === layers.length ? 'missing' : 'partly installed';
    return [block, layers.map(paperName).join(' '), state];
  });
  const summary =
    `${status.layers.length} of ${VGG19_CONV_LAYERS.length} convolution layers in ${status.dir}` +
    (status.bytes > 0 ? ` (${formatBytes(status.bytes)})` : '');
  const hint = status.missing.length > 0 ? ['`stylize weights download` installs the missing layers'] : [];
  return `${formatTable(['block', 'layers', 'state'], rows)}${[summary, ...status.problems, ...hint].map((l) => `${l}\n`).join('')}`;
}

/** block4_conv1 → conv4_1 (Simonyan & Zisserman's and Gatys et al.'s name). */
const paperName = (layer: string) => layer.replace(/^block(\d+)_conv(\d+)$/, 'conv$1_$2');
