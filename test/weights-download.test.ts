import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ChecksumMismatchError,
  DEFAULT_WEIGHTS_URL,
  type DownloadProgress,
  downloadWeights,
  VGG19_CONV_LAYERS,
  VGG19_PINNED_SHARDS,
  WeightsDownloadError,
  weightsStatus,
} from '../cli/weights/download.ts';
import { cliProgressReporter } from '../cli/weights/progress.ts';
import { groupByteLength, readManifest, type WeightsGroup } from '../engine/manifest.ts';
import { defaultWeightsDir } from '../lib/weights-location.ts';

const SHARED = fileURLToPath(new URL('../../shared/assets/vgg19-conv1-3/', import.meta.url));
const README = fileURLToPath(new URL('../../shared/assets/README.md', import.meta.url));

// ---- fixtures: the real groups 1-8, two small synthetic conv layers (one split in two shards), one fc ----

let readmeHashes: Map<string, string>;
let realGroups: WeightsGroup[];
const files = new Map<string, Buffer>();

function floats(n: number, seed: number): Buffer {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 1000 + i) * 0.1;
  return Buffer.from(a.buffer);
}

const synthGroups: WeightsGroup[] = [
  {
    paths: ['group9-shard1of1'],
    weights: [
      { name: 'block4_conv1/kernel', shape: [3, 3, 2, 3], dtype: 'float32' },
      { name: 'block4_conv1/bias', shape: [3], dtype: 'float32' },
    ],
  },
  {
    paths: ['group10-shard1of2', 'group10-shard2of2'],
    weights: [
      { name: 'block4_conv2/kernel', shape: [3, 3, 3, 4], dtype: 'float32' },
      { name: 'block4_conv2/bias', shape: [4], dtype: 'float32' },
    ],
  },
];
const fcGroup: WeightsGroup = {
  paths: ['group17-shard1of1'],
  weights: [
    { name: 'fc1/kernel', shape: [4, 2], dtype: 'float32' },
    { name: 'fc1/bias', shape: [2], dtype: 'float32' },
  ],
};

function modelJson(groups: WeightsGroup[]): string {
  // The shape of the real repository's model.json: a Keras layers model with the manifest alongside.
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: 'keras v2.2.4',
    convertedBy: 'TensorFlow.js Converter v1.0.0',
    modelTopology: { class_name: 'Model', config: { name: 'vgg19', layers: [] } },
    weightsManifest: groups,
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  // The README's list for vgg19-conv1-3 alone: the section of vgg19-conv1-5 lists its deeper shards after it.
  const readme = (await readFile(README, 'utf8')).split(/^## vgg19-conv1-5\//m)[0]!;
  readmeHashes = new Map(
    [...readme.matchAll(/^- (group\d-shard1of1) ([0-9a-f]{64})$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  expect(readmeHashes.size).toBe(8);
  realGroups = await readManifest(SHARED);
  for (const g of realGroups) files.set(g.paths[0]!, await readFile(join(SHARED, g.paths[0]!)));
  files.set('group9-shard1of1', floats((54 + 3) * 1, 9));
  const g10 = floats(108 + 4, 10);
  files.set('group10-shard1of2', g10.subarray(0, 256));
  files.set('group10-shard2of2', g10.subarray(256));
  files.set('group17-shard1of1', floats(10, 17));
  files.set('model.json', Buffer.from(modelJson([...realGroups, ...synthGroups, fcGroup])));
});

// ---- a local HTTP server that logs requests and lets a test misbehave on chosen ones ----

interface Logged {
  readonly path: string;
  readonly range: string | undefined;
}
type Hook = (req: IncomingMessage, res: ServerResponse, name: string, nth: number) => boolean;

const servers: Server[] = [];
const tmpDirs: string[] = [];

async function serve(content: Map<string, Buffer>, hook?: Hook) {
  const log: Logged[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/^\/model\//, ''));
    log.push({ path: name, range: req.headers.range });
    const nth = (counts.get(name) ?? 0) + 1;
    counts.set(name, nth);
    if (hook?.(req, res, name, nth)) return;
    const body = content.get(name);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    // Ranges as HTTP servers take them: "bytes=START-" or "bytes=START-END" (END inclusive).
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(body.length - 1, m[2] ? Number(m[2]) : body.length - 1);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'content-length': end - start + 1,
      });
      res.end(body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const shardGets = (name: string) => log.filter((l) => l.path === name);
  return { url: `http://127.0.0.1:${port}/model/`, log, shardGets };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stylize-weights-test-'));
  tmpDirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
  for (const d of tmpDirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const fast = { retryDelayMs: 1, timeoutMs: 5_000 };
const convShards = [...realGroups0(), 'group9-shard1of1', 'group10-shard1of2', 'group10-shard2of2'];
function realGroups0(): string[] {
  return [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `group${i}-shard1of1`);
}
const fileSha = async (path: string) => sha256(await readFile(path));

describe('downloadWeights over HTTP', () => {
  it('installs only the convolution groups, verified, with the manifest written last', async () => {
    const server = await serve(files);
    const dir = join(await tempDir(), 'cache', 'vgg19');
    const events: DownloadProgress[] = [];
    let manifestSeenEarly = false;
    const result = await downloadWeights({
      from: server.url,
      dir,
      ...fast,
      onProgress: (p) => {
        events.push(p);
        if (existsSync(join(dir, 'weights_manifest.json'))) manifestSeenEarly = true;
      },
    });

    expect(result.layers).toEqual([...VGG19_CONV_LAYERS.slice(0, 8), 'block4_conv1', 'block4_conv2']);
    expect(result).toMatchObject({ dir, downloaded: 11, skipped: 0 });
    const convBytes = [...realGroups, ...synthGroups].reduce((s, g) => s + groupByteLength(g), 0);
    expect(result.bytes).toBe(convBytes);

    const manifest = await readManifest(dir);
    expect(manifest.map((g) => g.paths)).toEqual([...realGroups, ...synthGroups].map((g) => g.paths));
    expect(JSON.stringify(manifest)).not.toContain('fc1');
    for (const [name, hash] of readmeHashes) expect(await fileSha(join(dir, name))).toBe(hash);
    expect(await readFile(join(dir, 'group10-shard2of2'))).toEqual(files.get('group10-shard2of2'));

    // The fully connected group was never requested, and no shard twice.
    expect(server.shardGets('group17-shard1of1')).toHaveLength(0);
    for (const name of convShards) expect(server.shardGets(name)).toHaveLength(1);
    expect((await readdir(dir)).sort()).toEqual(
      [...convShards, 'checksums.json', 'weights_manifest.json'].sort(),
    );

    // Trust on first use: every shard's sha256 is now recorded.
    const recorded = JSON.parse(await readFile(join(dir, 'checksums.json'), 'utf8'));
    expect(Object.keys(recorded).sort()).toEqual([...convShards].sort());
    expect(recorded['group9-shard1of1']).toBe(sha256(files.get('group9-shard1of1')!));

    expect(manifestSeenEarly).toBe(false);
    const last = events.at(-1)!;
    expect(last.overallReceived).toBe(convBytes);
    expect(last.overallTotal).toBe(convBytes);
    expect(events.find((e) => e.file === 'group6-shard1of1')?.total).toBe(2360320);

    const status = await weightsStatus(dir, { verify: true });
    expect(status).toMatchObject({ installed: true, problems: [], bytes: convBytes });
    expect(status.layers).toEqual(result.layers);
    expect(status.missing).toEqual(VGG19_CONV_LAYERS.slice(10));
  });

  it('downloads nothing the second time', async () => {
    const server = await serve(files);
    const dir = await tempDir();
    await downloadWeights({ from: server.url, dir, ...fast });
    const before = server.log.length;
    const again = await downloadWeights({ from: server.url, dir, ...fast });
    expect(again).toMatchObject({ downloaded: 0, skipped: 11 });
    const later = server.log.slice(before).map((l) => l.path);
    expect(later.filter((p) => p.startsWith('group'))).toEqual([]);
  });

  it('resumes a cut-off shard on the next run with a Range request', async () => {
    const full = files.get('group6-shard1of1')!;
    const server = await serve(files, (_req, res, name, nth) => {
      if (name !== 'group6-shard1of1' || nth !== 1) return false;
      res.writeHead(200, { 'content-length': full.length });
      res.write(full.subarray(0, full.length / 2));
      setTimeout(() => res.socket?.end(), 50);
      return true;
    });
    const dir = await tempDir();
    const first = downloadWeights({ from: server.url, dir, ...fast, attempts: 1 });
    await expect(first).rejects.toMatchObject({ code: 'NETWORK', file: 'group6-shard1of1' });
    const partial = (await stat(join(dir, 'group6-shard1of1.part'))).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(full.length);
    expect(existsSync(join(dir, 'weights_manifest.json'))).toBe(false);

    const second = await downloadWeights({ from: server.url, dir, ...fast, attempts: 1 });
    expect(server.shardGets('group6-shard1of1').map((l) => l.range)).toEqual([
      undefined,
      `bytes=${partial}-`,
    ]);
    expect(await fileSha(join(dir, 'group6-shard1of1'))).toBe(readmeHashes.get('group6-shard1of1'));
    expect(second).toMatchObject({ downloaded: 6, skipped: 5 });
    expect(existsSync(join(dir, 'group6-shard1of1.part'))).toBe(false);
  });

  it('retries a dropped connection within one run, resuming where it stopped', async () => {
    const full = files.get('group7-shard1of1')!;
    const server = await serve(files, (_req, res, name, nth) => {
      if (name !== 'group7-shard1of1' || nth !== 1) return false;
      res.writeHead(200, { 'content-length': full.length });
      res.write(full.subarray(0, 100_000));
      setTimeout(() => res.socket?.end(), 50);
      return true;
    });
    const dir = await tempDir();
    await downloadWeights({ from: server.url, dir, ...fast });
    const ranges = server.shardGets('group7-shard1of1').map((l) => l.range);
    expect(ranges).toHaveLength(2);
    expect(ranges[1]).toMatch(/^bytes=[1-9]\d*-\d*$/);
    expect(await fileSha(join(dir, 'group7-shard1of1'))).toBe(readmeHashes.get('group7-shard1of1'));
  });

  it('starts over when the server ignores the Range header (200 instead of 206)', async () => {
    const full = files.get('group5-shard1of1')!;
    const server = await serve(files, (_req, res, name) => {
      if (name !== 'group5-shard1of1') return false;
      res.writeHead(200, { 'content-length': full.length }).end(full);
      return true;
    });
    const dir = await tempDir();
    await writeFile(join(dir, 'group5-shard1of1.part'), Buffer.alloc(1000, 7)); // a stale part, wrong bytes
    await downloadWeights({ from: server.url, dir, ...fast });
    expect(server.shardGets('group5-shard1of1').map((l) => l.range)).toEqual(['bytes=1000-']);
    expect(await fileSha(join(dir, 'group5-shard1of1'))).toBe(readmeHashes.get('group5-shard1of1'));
  });

  it('stays on the source’s origin, redirects included, and refuses a web page where a file was expected', async () => {
    const other = await serve(files);
    const server = await serve(files, (_req, res, name) => {
      if (name !== 'group1-shard1of1') return false;
      res.writeHead(302, { location: `${other.url}group1-shard1of1` }).end();
      return true;
    });
    const run = downloadWeights({ from: server.url, dir: await tempDir(), ...fast });
    await expect(run).rejects.toMatchObject({ code: 'SOURCE', file: 'group1-shard1of1' });
    expect(other.log).toEqual([]);

    const page = await serve(files, (_req, res, name) => {
      if (name !== 'model.json') return false;
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<!doctype html><p>a repository page');
      return true;
    });
    await expect(downloadWeights({ from: page.url, dir: await tempDir(), ...fast })).rejects.toMatchObject({
      code: 'CONTENT',
      message: expect.stringMatching(/model\.json answered with an HTML page .*raw\.githubusercontent\.com/),
    });
  });

  it('retries 5xx answers', async () => {
    const server = await serve(files, (_req, res, name, nth) => {
      if (name !== 'group3-shard1of1' || nth > 2) return false;
      res.writeHead(503).end('busy');
      return true;
    });
    const dir = await tempDir();
    await downloadWeights({ from: server.url, dir, ...fast });
    expect(server.shardGets('group3-shard1of1')).toHaveLength(3);
    expect(await fileSha(join(dir, 'group3-shard1of1'))).toBe(readmeHashes.get('group3-shard1of1'));
  });

  it('gives up after the tries on a server that never answers', async () => {
    const server = await serve(files, (_req, _res, name) => name === 'group2-shard1of1');
    const dir = await tempDir();
    const run = downloadWeights({ from: server.url, dir, retryDelayMs: 1, timeoutMs: 150, attempts: 2 });
    await expect(run).rejects.toThrow(/group2-shard1of1.*nothing received for 150 ms.*after 2 tries/);
    expect(server.shardGets('group2-shard1of1')).toHaveLength(2);
    expect(existsSync(join(dir, 'weights_manifest.json'))).toBe(false);
  });

  it('rejects a tampered shard, keeps the old install and leaves no part behind', async () => {
    // A complete install of blocks 1-2 first.
    const small = new Map(files);
    small.set('model.json', Buffer.from(modelJson(realGroups.slice(0, 4))));
    const first = await serve(small);
    const dir = await tempDir();
    await downloadWeights({ from: first.url, dir, ...fast });
    const oldManifest = await readFile(join(dir, 'weights_manifest.json'), 'utf8');

    const tampered = new Map(files);
    const bad = Buffer.from(files.get('group6-shard1of1')!);
    bad[1234] = (bad[1234]! + 1) % 256;
    tampered.set('group6-shard1of1', bad);
    const second = await serve(tampered);
    const run = downloadWeights({ from: second.url, dir, ...fast });
    await expect(run).rejects.toBeInstanceOf(ChecksumMismatchError);
    const err = (await run.catch((e: unknown) => e)) as ChecksumMismatchError;
    expect(err.file).toBe('group6-shard1of1');
    expect(err.message).toContain('group6-shard1of1');
    expect(err.message).toContain(readmeHashes.get('group6-shard1of1'));
    expect(err.message).toContain(sha256(bad));

    expect(await readFile(join(dir, 'weights_manifest.json'), 'utf8')).toBe(oldManifest);
    const left = await readdir(dir);
    expect(left).not.toContain('group6-shard1of1');
    expect(left).not.toContain('group6-shard1of1.part');
    expect((await weightsStatus(dir)).layers).toEqual(VGG19_CONV_LAYERS.slice(0, 4));
  });

  it('holds shards nobody pins to the hash recorded on first use, and to sums the source ships', async () => {
    const server = await serve(files);
    const dir = await tempDir();
    await downloadWeights({ from: server.url, dir, ...fast });
    await rm(join(dir, 'group9-shard1of1'));

    const changed = new Map(files);
    changed.set('group9-shard1of1', floats(57, 99));
    const other = await serve(changed);
    const run = downloadWeights({ from: other.url, dir, ...fast });
    await expect(run).rejects.toThrow(
      /sha256 mismatch for group9-shard1of1: .*recorded in .*checksums\.json/,
    );
    // The install lost a shard its manifest lists, so the manifest went with it.
    expect(existsSync(join(dir, 'weights_manifest.json'))).toBe(false);
    expect(existsSync(join(dir, 'group9-shard1of1.part'))).toBe(false);

    const shipped = new Map(files);
    shipped.set('SHA256SUMS', Buffer.from(`${'0'.repeat(64)}  group10-shard2of2\n`));
    const third = await serve(shipped);
    const run3 = downloadWeights({ from: third.url, dir: await tempDir(), ...fast });
    await expect(run3).rejects.toThrow(
      /group10-shard2of2: expected 0{64} \(listed in the source's SHA256SUMS\)/,
    );
  });

  it('never writes a manifest while a download is unfinished (aborted mid-way), then resumes', async () => {
    const server = await serve(files);
    const dir = await tempDir();
    const controller = new AbortController();
    const run = downloadWeights({
      from: server.url,
      dir,
      ...fast,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'group7-shard1of1' && p.received > 0) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(join(dir, 'weights_manifest.json'))).toBe(false);
    expect(existsSync(join(dir, 'group6-shard1of1'))).toBe(true);
    expect(existsSync(join(dir, 'group7-shard1of1'))).toBe(false);
    expect((await weightsStatus(dir)).installed).toBe(false);

    const done = await downloadWeights({ from: server.url, dir, ...fast });
    expect(done.skipped).toBe(6);
    expect(existsSync(join(dir, 'weights_manifest.json'))).toBe(true);
    expect(await fileSha(join(dir, 'group7-shard1of1'))).toBe(readmeHashes.get('group7-shard1of1'));
  });

  it('refuses sources over the size cap before fetching any shard', async () => {
    const server = await serve(files);
    const run = downloadWeights({ from: server.url, dir: await tempDir(), ...fast, maxBytes: 1_000_000 });
    await expect(run).rejects.toMatchObject({ code: 'SIZE' });
    expect(server.log.filter((l) => l.path.startsWith('group'))).toEqual([]);
  });

  it('rejects manifests that mix convolution and other weights in a group, or name unsafe files', async () => {
    const mixed = new Map(files);
    const group = { ...fcGroup, weights: [...fcGroup.weights, synthGroups[0]!.weights[0]!] };
    mixed.set('model.json', Buffer.from(modelJson([...realGroups, group])));
    const a = await serve(mixed);
    await expect(downloadWeights({ from: a.url, dir: await tempDir(), ...fast })).rejects.toThrow(/mixes/);

    const evil = new Map(files);
    evil.set('model.json', Buffer.from(modelJson([{ ...synthGroups[0]!, paths: ['../escape'] }])));
    const b = await serve(evil);
    await expect(downloadWeights({ from: b.url, dir: await tempDir(), ...fast })).rejects.toThrow(
      /not a plain file name/,
    );
  });

  it('fails clearly when the source has no manifest', async () => {
    const server = await serve(new Map());
    await expect(downloadWeights({ from: server.url, dir: await tempDir(), ...fast })).rejects.toThrow(
      /has no model\.json or weights_manifest\.json/,
    );
  });
});

describe('downloadWeights from a local directory', () => {
  it('copies the shared shards (weights_manifest.json form)', async () => {
    const dir = await tempDir();
    const result = await downloadWeights({ from: SHARED, dir });
    expect(result).toMatchObject({ downloaded: 8, skipped: 0, layers: VGG19_CONV_LAYERS.slice(0, 8) });
    for (const [name, hash] of readmeHashes) expect(await fileSha(join(dir, name))).toBe(hash);
    expect(await downloadWeights({ from: SHARED, dir })).toMatchObject({ downloaded: 0, skipped: 8 });
  });

  it('reads a model.json mirror with symlinked shards, leaving the fc group behind', async () => {
    const mirror = await tempDir();
    for (const name of realGroups0()) await symlink(join(SHARED, name), join(mirror, name));
    for (const name of ['group9-shard1of1', 'group10-shard1of2', 'group10-shard2of2', 'group17-shard1of1']) {
      await writeFile(join(mirror, name), files.get(name)!);
    }
    await writeFile(join(mirror, 'model.json'), files.get('model.json')!);
    const dir = join(await tempDir(), 'nested', 'vgg19');
    const seen: string[] = [];
    const result = await downloadWeights({ from: mirror, dir, onProgress: (p) => seen.push(p.file) });
    expect(result.downloaded).toBe(11);
    expect(new Set(seen)).toEqual(new Set(convShards));
    expect(existsSync(join(dir, 'group17-shard1of1'))).toBe(false);
    expect(await readFile(join(dir, 'group10-shard1of2'))).toEqual(files.get('group10-shard1of2'));
  });

  it('rejects a local shard of the wrong size', async () => {
    const mirror = await tempDir();
    await writeFile(join(mirror, 'weights_manifest.json'), JSON.stringify(synthGroups.slice(0, 1)));
    await writeFile(join(mirror, 'group9-shard1of1'), Buffer.alloc(10));
    await expect(downloadWeights({ from: mirror, dir: await tempDir() })).rejects.toMatchObject({
      code: 'SIZE',
      file: 'group9-shard1of1',
    });
  });
});

describe('weights helpers', () => {
  it('pins exactly the README hashes for groups 1-8 of the default source', () => {
    expect(new Map(VGG19_PINNED_SHARDS.map((p) => [p.file, p.sha256]))).toEqual(readmeHashes);
    expect(VGG19_PINNED_SHARDS.map((p) => p.layer)).toEqual(VGG19_CONV_LAYERS.slice(0, 8));
    expect(DEFAULT_WEIGHTS_URL).toBe(
      'https://raw.githubusercontent.com/DavidCai1993/vgg19-tensorflowjs-model/master/model/',
    );
  });

  it('finds the default directory from the environment it is given', () => {
    expect(defaultWeightsDir({ STYLIZE_WEIGHTS_DIR: '/srv/w', HOME: '/h' })).toBe('/srv/w');
    expect(defaultWeightsDir({ STYLIZE_WEIGHTS_DIR: '~/w', HOME: '/h' })).toBe('/h/w');
    expect(defaultWeightsDir({ XDG_CACHE_HOME: '/xdg', HOME: '/h' })).toBe('/xdg/stylize/vgg19');
    expect(defaultWeightsDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe('/h/.cache/stylize/vgg19');
    expect(defaultWeightsDir({ HOME: '/h' })).toBe('/h/.cache/stylize/vgg19');
  });

  it('reports an empty or damaged directory', async () => {
    const dir = await tempDir();
    expect(await weightsStatus(dir)).toMatchObject({
      installed: false,
      layers: [],
      missing: VGG19_CONV_LAYERS,
    });
    await downloadWeights({ from: SHARED, dir });
    await writeFile(join(dir, 'group2-shard1of1'), Buffer.alloc(147712));
    expect((await weightsStatus(dir)).installed).toBe(true); // sizes only
    const verified = await weightsStatus(dir, { verify: true });
    expect(verified.installed).toBe(false);
    expect(verified.problems).toEqual([
      expect.stringMatching(/^group2-shard1of1: sha256 [0-9a-f]{64}, expected a0e2/),
    ]);
    await rm(join(dir, 'group3-shard1of1'));
    expect((await weightsStatus(dir)).problems).toEqual(['group3-shard1of1: missing']);

    // A run repairs it: the bad and missing shards are fetched again, the rest skipped.
    expect(await downloadWeights({ from: SHARED, dir })).toMatchObject({ downloaded: 2, skipped: 6 });
    expect((await weightsStatus(dir, { verify: true })).problems).toEqual([]);
  });

  it('draws a progress bar with cli-progress', async () => {
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const progress = cliProgressReporter({ stream, noTTYOutput: true });
    await downloadWeights({ from: SHARED, dir: await tempDir(), onProgress: progress });
    progress.stop();
    progress.stop();
    expect(out).toMatch(/VGG-19 weights .*100% \| 9\.3\/9\.3 MB/);
  });

  it('reports download errors as WeightsDownloadError', async () => {
    const missing = join(await tempDir(), 'nope');
    await mkdir(join(missing, '..'), { recursive: true });
    const run = downloadWeights({ from: missing, dir: await tempDir() });
    await expect(run).rejects.toBeInstanceOf(WeightsDownloadError);
    await expect(run).rejects.toMatchObject({ code: 'SOURCE' });
  });
});
