import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { BACKENDS, DEFAULT_STOP } from '../engine/index.ts';
import { DEFAULT_OUT, DEFAULT_PRINT_EVERY, parseRunOptions } from './options.ts';
import { INTERRUPTED, Interrupted } from './painting.ts';
import { presetsCommand } from './presets.ts';
import { runStylize } from './run.ts';
import { cliSettings } from './settings.ts';
import { weightsCommand } from './weights.ts';

const settings = cliSettings(process.env);
// Read beside the code: package.json is copied into the build (scripts/build.ts).
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('stylize')
  .description('Paint a photo in the style of a painting (Gatys et al. neural style transfer on VGG-19)')
  .version(version, '-V, --version', 'print the version')
  // The subcommands' options are their own: `stylize weights status --json` is the subcommand's --json.
  .enablePositionalOptions()
  .argument('[content]', 'the content photo (JPEG, PNG, WebP, GIF, AVIF, TIFF)')
  .option('-s, --style <preset|path[,path2]>', 'style painting(s): a preset name or image file(s)')
  .option('--style-weights <w1,w2>', 'blend weights for several styles')
  .option('-o, --out <file>', `result image (.png or .jpg; default: ${DEFAULT_OUT} in the working directory)`)
  .option('--compare <file>', 'also write content | style | result side by side')
  .option('--timelapse <file>', 'also write the optimisation as an animation (.webp or .gif)')
  .option('--size <px>', 'longer side of the result (default: $STYLIZE_SIZE or 384)')
  .option('--iterations <n>', 'most optimiser iterations in total (default: $STYLIZE_ITERATIONS or 300)')
  .option('--no-early-stop', 'run every iteration, even once the picture has stopped changing')
  .option(
    '--stop-tolerance <fraction>',
    'a scale has converged when its loss fell by less than this fraction…',
    String(DEFAULT_STOP.tolerance),
  )
  .option('--stop-window <n>', '…over its last n iterations', String(DEFAULT_STOP.window))
  .option(
    '--strength <0-100>',
    "how strongly to apply the style (default: the preset's, else $STYLIZE_STRENGTH or 50)",
  )
  .option('--content-weight <alpha>', 'expert: raw content weight (overrides --strength)')
  .option('--style-weight <beta>', 'expert: raw style weight (overrides --strength)')
  .option('--tv-weight <w>', 'expert: total-variation (smoothness) weight')
  .option(
    '--layers <set>',
    'auto | paper | shallow | "style=conv1_1,conv2_1;content=conv3_2" (default: $STYLIZE_LAYERS or auto)',
  )
  .option('--weights <dir>', 'VGG-19 weights directory (default: the download cache)')
  .option('--backend <name>', `${BACKENDS.join(' | ')}`, 'auto')
  .option('--optimizer <name>', 'lbfgs | adam', 'lbfgs')
  .option('--learning-rate <lr>', 'Adam step (pixel levels)')
  .option('--init <from>', 'content | noise', 'content')
  .option('--pooling <kind>', 'avg (as in the paper) | max', 'avg')
  .option('--style-scale <s>', 'style image size relative to the result', '1')
  .option('--scales <n>', 'coarse-to-fine scales (default: follows --size)')
  .option('--preserve-colors', "keep the photo's colours (luminance-only transfer)", false)
  .option('--seed <n>', 'seed for noise initialisation', '0')
  .option(
    '--print-every <n>',
    `a progress line every n iterations, 0 for none (default: a progress bar on a terminal, else ${DEFAULT_PRINT_EVERY})`,
  )
  .option('--save-every <n>', 'also write the painting so far to --out every n iterations')
  .option('--json', 'print one JSON summary on stdout', false)
  .action(async (content: string | undefined, raw: Record<string, unknown>) => {
    if (!content) {
      program.help({ error: true });
      return;
    }
    const options = parseRunOptions(raw, settings().jobDefaults);
    const summary = await runStylize(content, options, settings());
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stderr.write(
        `wrote ${summary.out} (${summary.size.width}x${summary.size.height}, ${summary.iterations} iterations${summary.converged ? ', converged' : ''} on ${summary.backend} (${summary.device}) in ${summary.seconds} s)\n`,
      );
  });

program.addCommand(weightsCommand(settings));
program.addCommand(presetsCommand(settings));

try {
  await program.parseAsync();
} catch (error) {
  // One clear line, no stack trace: these are the user's errors (bad file, missing weights, bad option).
  process.stderr.write(`stylize: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof Interrupted ? INTERRUPTED : 1;
}
