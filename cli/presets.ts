import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { installBundledPresets } from '../presets/bundled.ts';
import { type Catalogue, loadCatalogue, paintingTitle } from '../presets/catalogue.ts';
import { presetFiles } from '../presets/files.ts';
import { type PresetProgress, presetsStatus, setupPresets } from './presets/setup.ts';
import type { CliSettings } from './settings.ts';
import { formatTable } from './table.ts';

/**
 * `stylize presets setup|list`: install the catalogue's public-domain paintings into PRESETS_DIR, or list them.
 * Both first copy the bundled paintings into an empty presets folder, as the bot does when it starts.
 */
export function presetsCommand(settings: () => CliSettings): Command {
  const presets = new Command('presets').description('install or list the preset paintings');
  presets
    .command('setup')
    .description(
      "add the catalogue's paintings to the presets directory (checksummed, resumable), beside the bundled ones",
    )
    .option('--dir <dir>', 'the presets directory (default: $PRESETS_DIR or $DATA_DIR/presets)')
    .option(
      '--from <dir|url>',
      'a local directory or base URL holding files named by id, e.g. starry_night.jpg',
    )
    .action(async (options: { dir?: string; from?: string }) => {
      const dir = options.dir ?? settings().presetsDir;
      const bundled = await installBundledPresets(dir);
      const catalogue = await loadCatalogue();
      const bar = process.stderr.isTTY ? progressBar() : undefined;
      const result = await setupPresets({
        catalogue,
        dir,
        from: options.from,
        onProgress: bar?.report,
      }).finally(() => bar?.stop());
      for (const { id, error } of result.failed) {
        process.stderr.write(`${titleOf(catalogue, id)} was not installed: ${error}\n`);
      }
      const there = result.skipped.length - bundled.length;
      process.stderr.write(
        `presets in ${result.dir}: ${bundled.length} bundled installed, ${result.downloaded.length} downloaded, ` +
          `${there} already there, ${result.failed.length} failed\n`,
      );
      if (result.failed.length > 0) {
        throw new Error(
          `${result.failed.length} of ${catalogue.paintings.length} paintings not installed ` +
            `(${result.failed.map((f) => f.id).join(', ')}); the ${catalogue.paintings.length - result.failed.length} others are ready`,
        );
      }
    });
  presets
    .command('list')
    .description('list the catalogue paintings, installed or missing, and the other presets installed')
    .option('--dir <dir>', 'the presets directory')
    .option('--json', 'print the list as JSON', false)
    .action(async (options: { dir?: string; json: boolean }) => {
      const dir = options.dir ?? settings().presetsDir;
      await installBundledPresets(dir);
      const list = await presetList(await loadCatalogue(), dir);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      const rows = list.map((p) => [
        p.installed ? 'installed' : 'missing',
        p.id,
        p.title ?? '',
        p.artist ?? '',
        p.year ?? '',
      ]);
      process.stdout.write(formatTable(['state', 'preset', 'title', 'artist', 'year'], rows));
      const missing = list.filter((p) => !p.installed).length;
      if (missing > 0) {
        process.stderr.write(
          `${missing} of ${list.length} missing from ${dir}: run \`stylize presets setup\` to install them\n`,
        );
      }
    });
  return presets;
}

/** The catalogue's paintings, installed or not, then the other presets in `dir` (the operator's own files). */
async function presetList(catalogue: Catalogue, dir: string) {
  const status = await presetsStatus(catalogue, dir);
  const known = new Set(catalogue.paintings.map((p) => p.id));
  const others = [...(await presetFiles(dir))].filter(([id]) => !known.has(id));
  return [
    ...status.map(({ painting: { id, title, artist, year }, file }) => ({
      id,
      title,
      artist,
      year,
      installed: file !== undefined,
      file: file ?? null,
    })),
    ...others.map(([id, file]) => ({ id, title: null, artist: null, year: null, installed: true, file })),
  ];
}

/** "The Great Wave off Kanagawa — Katsushika Hokusai, c. 1831 (great_wave)". */
function titleOf(catalogue: Catalogue, id: string): string {
  const painting = catalogue.paintings.find((p) => p.id === id);
  return painting ? `${paintingTitle(painting)} (${id})` : id;
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
