import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { loadCatalogue } from '../presets/catalogue.ts';
import { type PresetProgress, presetsStatus, setupPresets } from './presets/setup.ts';
import type { CliSettings } from './settings.ts';

/** `stylize presets setup|list`: install the catalogue's public-domain paintings into PRESETS_DIR. */
export function presetsCommand(settings: () => CliSettings): Command {
  const presets = new Command('presets').description('install or list the preset paintings');
  presets
    .command('setup')
    .description('download the catalogue paintings into the presets directory (checksummed, resumable)')
    .option('--dir <dir>', 'the presets directory (default: $PRESETS_DIR or $DATA_DIR/presets)')
    .option(
      '--from <dir|url>',
      'a local directory or base URL holding files named by id, e.g. starry_night.jpg',
    )
    .action(async (options: { dir?: string; from?: string }) => {
      const dir = options.dir ?? settings().presetsDir;
      const catalogue = await loadCatalogue();
      const bar = process.stderr.isTTY ? progressBar() : undefined;
      const result = await setupPresets({
        catalogue,
        dir,
        from: options.from,
        onProgress: bar?.report,
      }).finally(() => bar?.stop());
      for (const { id, error } of result.failed) process.stderr.write(`  ${id}: ${error}\n`);
      process.stderr.write(
        `presets in ${result.dir}: ${result.downloaded.length} downloaded, ${result.skipped.length} already there, ${result.failed.length} failed\n`,
      );
      if (result.failed.length > 0) {
        throw new Error(
          `${result.failed.length} painting(s) not installed (${result.failed.map((f) => f.id).join(', ')}); they are left out of the preset list`,
        );
      }
    });
  presets
    .command('list')
    .description('list the catalogue paintings, installed or missing')
    .option('--dir <dir>', 'the presets directory')
    .action(async (options: { dir?: string }) => {
      const dir = options.dir ?? settings().presetsDir;
      const status = await presetsStatus(await loadCatalogue(), dir);
      for (const { painting, file } of status) {
        const state = file ? 'installed' : 'missing  ';
        process.stdout.write(
          `${state}  ${painting.id.padEnd(24)} ${painting.title} (${painting.artist}, ${painting.year})\n`,
        );
      }
      const missing = status.filter((s) => !s.file).length;
      if (missing > 0) {
        process.stderr.write(
          `${missing} of ${status.length} missing from ${dir}: run \`stylize presets setup\` to install them\n`,
        );
      }
    });
  return presets;
}

function progressBar(): { report: (p: PresetProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'presets [{bar}] {value}/{total} | {id} {mb} MB',
      hideCursor: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    report(p) {
      const payload = { id: p.id, mb: (p.received / 1e6).toFixed(1) };
      if (!started) {
        started = true;
        bar.start(p.count, p.index - 1, payload);
      } else bar.update(p.index - 1, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
