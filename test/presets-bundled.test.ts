/**
 * The paintings that come with the project: small renditions of public-domain paintings in presets/bundled/,
 * installed into an empty presets folder, so that a new bot started with no network (`npm start` on the sources,
 * against the fake Discord and Slack) offers them in Discord's autocomplete and in Slack's painting picker.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { probeImage } from '../lib/images/index.ts';
import { BUNDLED_DIR, installBundledPresets, loadBundled } from '../presets/bundled.ts';
import { loadCatalogue, paintingTitle } from '../presets/catalogue.ts';
import { FIELD, STYLIZE_MODAL } from '../slack/modal.ts';
import { asset } from './assets.ts';
import {
  type Child,
  createTestDatabase,
  logLines,
  spawnNpm,
  type TestDatabase,
  testEnv,
  waitFor,
} from './job-system.ts';
import { alice, chatEnv, type Platforms, platforms, SECRET } from './platforms.ts';
import { blockSuggestion, postSigned } from './slack/requests.ts';

const BUNDLED = ['shipwreck', 'starry_night', 'the_scream', 'woman-with-hat-matisse'];
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const tmp: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bundled-'));
  tmp.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the bundled paintings', () => {
  it('are the four shared paintings as small renditions of their own, titled as in the catalogue', async () => {
    const bundled = await loadBundled();
    expect(bundled.map((p) => p.id).sort()).toEqual(BUNDLED);
    const catalogue = new Map((await loadCatalogue()).paintings.map((p) => [p.id, p]));
    const shared = await Promise.all(
      (await readdir(asset('styles'))).map(async (f) => sha256(await readFile(asset(`styles/${f}`)))),
    );
    for (const painting of bundled) {
      const bytes = await readFile(join(BUNDLED_DIR, painting.file));
      expect(bytes.length, painting.file).toBeLessThanOrEqual(200 * 1024);
      const { width, height } = await probeImage(bytes);
      expect(Math.max(width, height), painting.file).toBeLessThanOrEqual(640);
      expect(Math.max(width, height), painting.file).toBeGreaterThanOrEqual(400);
      expect(shared).not.toContain(sha256(bytes));
      const listed = catalogue.get(painting.id)!;
      expect(paintingTitle(painting)).toBe(paintingTitle(listed));
      expect(painting.licence).toMatch(/^public domain/);
    }
  });

  it('are copied into an empty presets folder, and a folder with presets is left as it is', async () => {
    const empty = join(await tempDir(), 'presets'); // not there yet: created
    expect((await installBundledPresets(empty)).sort()).toEqual(BUNDLED);
    for (const painting of await loadBundled()) {
      expect(await readFile(join(empty, painting.file))).toEqual(
        await readFile(join(BUNDLED_DIR, painting.file)),
      );
    }
    expect(await installBundledPresets(empty)).toEqual([]); // no longer empty

    const own = await tempDir();
    await writeFile(join(own, 'monet.jpg'), await readFile(join(BUNDLED_DIR, 'shipwreck.jpg')));
    await writeFile(join(own, 'notes.txt'), 'not a painting');
    expect(await installBundledPresets(own)).toEqual([]);
    expect((await readdir(own)).sort()).toEqual(['monet.jpg', 'notes.txt']);
  });
});

describe('npm start with an empty presets folder and no network', () => {
  let db: TestDatabase;
  let fakes: Platforms | undefined;
  let bot: Child | undefined;

  afterEach(async () => {
    if (bot && bot.process.exitCode === null) {
      process.kill(-bot.process.pid!, 'SIGINT');
      await bot.exited;
    }
    await fakes?.discord.close();
    await fakes?.slack.close();
    await db?.drop();
  });

  it('offers the bundled paintings in Discord’s autocomplete and in Slack’s painting picker', async () => {
    db = await createTestDatabase('sqlite');
    const presetsDir = join(db.dataDir, 'presets');
    await mkdir(presetsDir);
    fakes = await platforms();
    const { discord } = fakes;
    bot = spawnNpm('dev', testEnv(db, { BOT_WORKERS: '0', PRESETS_DIR: presetsDir, ...chatEnv(fakes) }));
    const { output } = bot;
    await discord.waitForSession(60_000);
    const port = await waitFor(
      'the Slack app',
      async () => logLines(output(), 'slack app listening')[0]?.port as number | undefined,
    );
    expect(logLines(output(), 'presets: the folder was empty; installed the bundled paintings')).toHaveLength(
      1,
    );
    expect((await stat(join(presetsDir, 'starry_night.jpg'))).isFile()).toBe(true);
    const titles = (await loadBundled())
      .map(paintingTitle)
      .sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));

    const sent = await discord.sendAutocomplete({
      name: 'stylize',
      options: { style: '' },
      focused: 'style',
    });
    const answer = (await discord.waitForCallback(sent)).body as {
      data: { choices: { name: string; value: string }[] };
    };
    expect(answer.data.choices.map((c) => c.name)).toEqual(titles);
    expect(answer.data.choices.map((c) => c.value).sort()).toEqual(BUNDLED);

    const response = await postSigned(
      `http://127.0.0.1:${port}/slack/events`,
      blockSuggestion(
        alice,
        { id: 'VPICKER', callback_id: STYLIZE_MODAL },
        { block_id: FIELD.preset, action_id: 'value' },
        '',
      ),
      { secret: SECRET },
    );
    expect(response.status).toBe(200);
    const { options } = response.json() as { options: { text: { text: string }; value: string }[] };
    expect(options.map((o) => o.text.text)).toEqual(titles);
  });
});
