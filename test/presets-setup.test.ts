import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetsStatus, setupPresets } from '../cli/presets/setup.ts';
import { decodeImage, probeImage } from '../lib/images/index.ts';
import { type Catalogue, catalogueSchema, loadCatalogue } from '../presets/catalogue.ts';
import { presetFiles } from '../presets/files.ts';
import { asset } from './assets.ts';

const IDS = ['alpha', 'beta', 'gamma'];
let server: Server;
let base: string;
let images: Map<string, Buffer>;
const requests: string[] = [];
const tmp: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'presets-'));
  tmp.push(dir);
  return dir;
}

function catalogue(ids: string[] = IDS): Catalogue {
  return {
    paintings: ids.map((id) => ({
      id,
      title: `Title ${id}`,
      artist: 'Anon',
      year: '1900',
      source: `${base}/commons/a/ab/${id.toUpperCase()}_%281900%29.jpg`,
      licence: 'public domain',
      strength: 50,
      sha256: null,
    })),
  };
}

beforeAll(async () => {
  images = new Map();
  for (const [i, id] of IDS.entries()) {
    const buf = await sharp({
      create: { width: 16, height: 12, channels: 3, background: { r: i * 80, g: 40, b: 200 } },
    })
      .jpeg()
      .toBuffer();
    images.set(id, buf);
  }
  server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '');
    requests.push(path);
    if (path.includes('NOTANIMAGE')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>moved</html>');
      return;
    }
    const match = /\/(?:commons\/a\/ab\/([A-Z]+)_\(1900\)\.jpg|mirror\/([a-z]+)\.jpg)$/.exec(path);
    const id = (match?.[1] ?? match?.[2])?.toLowerCase();
    const body = id ? images.get(id) : undefined;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the preset catalogue', () => {
  it('validates, with the ids of the shared style files', async () => {
    const cat = await loadCatalogue();
    expect(cat.paintings.length).toBeGreaterThanOrEqual(10);
    const shared = await presetFiles(asset('styles'));
    for (const id of shared.keys()) expect(cat.paintings.map((p) => p.id)).toContain(id);
    // Renditions 1920 px wide (a width Commons serves), never the original files.
    for (const p of cat.paintings) {
      expect(p.source).toMatch(
        /^https:\/\/upload\.wikimedia\.org\/wikipedia\/commons\/thumb\/([0-9a-f])\/\1[0-9a-f]\/([^/]+)\/1920px-\2$/,
      );
    }
    const original = cat.paintings[0]!.source.replace(/\/thumb(\/.+)\/[^/]+$/, '$1');
    expect(() => catalogueSchema.parse({ paintings: [{ ...cat.paintings[0]!, source: original }] })).toThrow(
      /size-limited rendition/,
    );
  });
});

// Wikimedia Commons as `stylize presets setup` meets it: originals past the bot's 40-megapixel limit (The Starry
// Night's Google Art Project scan is about 30000×23756 px), and thumbnails of any of them at a requested width.
describe('stylize presets setup against a Commons-like host', () => {
  let commons: Server;
  let origin: string;
  let original: Buffer;
  const served: string[] = [];

  beforeAll(async () => {
    original = await sharp({
      create: { width: 8000, height: 5100, channels: 3, background: { r: 30, g: 60, b: 160 } },
    })
      .jpeg({ quality: 50 })
      .toBuffer();
    commons = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      served.push(path);
      const thumb = /^\/wikipedia\/commons\/thumb\/[0-9a-f]\/[0-9a-f]{2}\/([^/]+)\/(\d+)px-\1$/.exec(path);
      const send = (body: Buffer) =>
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length }).end(body);
      if (thumb) {
        sharp(original, { limitInputPixels: false })
          .resize({ width: Number(thumb[2]) })
          .jpeg()
          .toBuffer()
          .then(send, () => res.writeHead(500).end());
      } else if (/^\/wikipedia\/commons\/[0-9a-f]\/[0-9a-f]{2}\/[^/]+$/.test(path)) {
        send(original);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((done) => commons.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(commons.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => commons.close(done));
  });

  it('installs a usable preset from the catalogue’s rendition of a painting whose original is over the limit', async () => {
    await expect(probeImage(original)).rejects.toThrow(/too large|megapixel/i);
    const starry = (await loadCatalogue()).paintings.find((p) => p.id === 'starry_night')!;
    // The catalogue's own URL, on this host instead of upload.wikimedia.org.
    const painting = { ...starry, source: starry.source.replace('https://upload.wikimedia.org', origin) };
    const dir = await tempDir();
    const result = await setupPresets({ catalogue: { paintings: [painting] }, dir });
    expect(result).toMatchObject({ downloaded: ['starry_night'], failed: [] });
    expect(served).toEqual([new URL(painting.source).pathname]);

    const installed = await readFile(join(dir, 'starry_night.jpg'));
    expect(await probeImage(installed)).toMatchObject({ format: 'jpeg', width: 1920, height: 1224 });
    // What a job does with a preset: decoded at the style size.
    const style = await decodeImage(installed, { maxSide: 512 });
    expect([style.width, style.height]).toEqual([512, 326]);
  });
});

describe('stylize presets setup', () => {
  it('downloads every painting, records its sha256, and skips it the next time', async () => {
    const dir = await tempDir();
    const progress: string[] = [];
    const first = await setupPresets({ catalogue: catalogue(), dir, onProgress: (p) => progress.push(p.id) });
    expect(first.failed).toEqual([]);
    expect(first.downloaded).toEqual(IDS);
    expect(progress).toEqual(expect.arrayContaining(IDS));
    expect((await readdir(dir)).sort()).toEqual(['alpha.jpg', 'beta.jpg', 'checksums.json', 'gamma.jpg']);
    expect(await readFile(join(dir, 'beta.jpg'))).toEqual(images.get('beta'));
    const sums = JSON.parse(await readFile(join(dir, 'checksums.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(sums)).toEqual(['alpha.jpg', 'beta.jpg', 'gamma.jpg']);
    expect(sums['alpha.jpg']).toMatch(/^[0-9a-f]{64}$/);

    requests.length = 0;
    const second = await setupPresets({ catalogue: catalogue(), dir });
    expect(second).toMatchObject({ downloaded: [], skipped: IDS, failed: [] });
    expect(requests).toEqual([]);
    expect((await presetsStatus(catalogue([...IDS, 'delta']), dir)).map((s) => s.file !== undefined)).toEqual(
      [true, true, true, false],
    );
    // Missing ones are simply not presets: listPresets lists the files there are.
    expect([...(await presetFiles(dir)).keys()].sort()).toEqual(IDS);
  });

  it('rejects a file changed after its sha256 was recorded, naming it', async () => {
    const dir = await tempDir();
    await setupPresets({ catalogue: catalogue(), dir });
    await writeFile(join(dir, 'gamma.jpg'), images.get('alpha')!);
    const again = await setupPresets({ catalogue: catalogue(), dir });
    expect(again.skipped).toEqual(['alpha', 'beta']);
    expect(again.failed).toHaveLength(1);
    expect(again.failed[0]!.id).toBe('gamma');
    expect(again.failed[0]!.error).toMatch(
      /gamma\.jpg has sha256 [0-9a-f]{64}, not the [0-9a-f]{64} recorded/,
    );
    expect(again.failed[0]!.error).toMatch(/delete it and run `stylize presets setup` again/);
  });

  it('rejects a download whose sha256 differs from the recorded one', async () => {
    const dir = await tempDir();
    await setupPresets({ catalogue: catalogue(), dir });
    await rm(join(dir, 'beta.jpg'));
    const original = images.get('beta')!;
    images.set('beta', images.get('alpha')!);
    try {
      const again = await setupPresets({ catalogue: catalogue(), dir });
      expect(again.failed.map((f) => f.id)).toEqual(['beta']);
      expect(again.failed[0]!.error).toMatch(/sha256 mismatch for beta\.jpg.*recorded on first download/);
      expect((await readdir(dir)).sort()).toEqual(['alpha.jpg', 'checksums.json', 'gamma.jpg']);
    } finally {
      images.set('beta', original);
    }
  });

  it('rejects a response that is not an image and keeps nothing of it', async () => {
    const dir = await tempDir();
    const cat = catalogue(['alpha']);
    const bad = { ...cat.paintings[0]!, id: 'broken', source: `${base}/commons/x/NOTANIMAGE.jpg` };
    const result = await setupPresets({
      catalogue: { paintings: [bad, ...cat.paintings] },
      dir,
      retryDelayMs: 1,
    });
    expect(result.downloaded).toEqual(['alpha']);
    expect(result.failed[0]!.id).toBe('broken');
    expect(result.failed[0]!.error).toMatch(/broken: the download from .* is not an image/);
    expect((await readdir(dir)).sort()).toEqual(['alpha.jpg', 'checksums.json']);
  });

  it('says why each painting was not installed when its host cannot be reached or has no such file', async () => {
    const dir = await tempDir();
    const cat = catalogue();
    const unreachable = cat.paintings.map((p) => ({
      ...p,
      source: p.source.replace(base, 'http://127.0.0.1:1'),
    }));
    const moved = { ...cat.paintings[0]!, id: 'moved', source: `${base}/commons/a/ab/MOVED_%281900%29.jpg` };
    const result = await setupPresets({
      catalogue: { paintings: [...unreachable, moved] },
      dir,
      attempts: 2,
      retryDelayMs: 1,
    });
    expect(result.downloaded).toEqual([]);
    expect(result.failed.map((f) => f.id)).toEqual([...IDS, 'moved']);
    const mirror = 'install it from a mirror with `stylize presets setup --from <dir|url>`';
    for (const { error } of result.failed.slice(0, 3)) {
      expect(error).toBe(
        `could not reach 127.0.0.1:1 (ECONNREFUSED, after 2 tries): check this machine's network access, or ${mirror}`,
      );
    }
    expect(result.failed[3]!.error).toBe(
      `${new URL(base).host} has no file at the address asked for (HTTP 404): it may have moved; ${mirror}`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('installs from a local mirror directory or a mirror URL instead of the sources', async () => {
    const mirror = await tempDir();
    for (const id of IDS) await writeFile(join(mirror, `${id}.jpg`), images.get(id)!);
    const fromDir = await tempDir();
    requests.length = 0;
    const local = await setupPresets({ catalogue: catalogue(), dir: fromDir, from: mirror });
    expect(local).toMatchObject({ downloaded: IDS, failed: [] });
    expect(requests).toEqual([]);
    expect(await readFile(join(fromDir, 'gamma.jpg'))).toEqual(images.get('gamma'));

    const fromUrl = await tempDir();
    const remote = await setupPresets({ catalogue: catalogue(), dir: fromUrl, from: `${base}/mirror/` });
    expect(remote).toMatchObject({ downloaded: IDS, failed: [] });
    expect(requests).toEqual(IDS.map((id) => `/mirror/${id}.jpg`));
  });
});
