import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** The file, next to `weights_manifest.json`, that records the sha256 of every shard installed. */
export const CHECKSUMS_FILE = 'checksums.json';
/** A `sha256sum`-style list a source may ship instead of (or as well as) `checksums.json`. */
export const SHA256SUMS_FILE = 'SHA256SUMS';

/** A shard whose sha256 is known ahead of time, and the layer it must hold for the pin to apply. */
export interface PinnedShard {
  readonly file: string;
  readonly layer: string;
  readonly sha256: string;
}

/**
 * The shards of the default source (github.com/DavidCai1993/vgg19-tensorflowjs-model, model/) whose sha256
 * is known here: groups 1-8, `block1_conv1`..`block3_conv4`, byte-identical to shared/assets/vgg19-conv1-3.
 *
 * Groups 9-16 (`block4_conv1`..`block5_conv4`) could not be fetched when this table was written, so their
 * hashes are NOT pinned: they are trusted on first use. The first download records their sha256 in the cache's
 * `checksums.json`, and every later run (re-download, repair, skip check) must reproduce it; a source that
 * later serves different bytes under the same name fails loudly instead of being installed silently.
 *
 * A pin applies only to a group with that shard file holding that layer, so a mirror laid out differently is
 * not held to it (its shards are then trusted on first use, or checked against the sums it ships).
 */
export const VGG19_PINNED_SHARDS: readonly PinnedShard[] = [
  pin('group1-shard1of1', 'block1_conv1', 'c68eefa00d6af917fc28b127b756e48597c25cc11144b38fdf8ea65753c197e1'),
  pin('group2-shard1of1', 'block1_conv2', 'a0e2bb4fbef5e0ce3d8e2fbc6f903c713c9893a0aa2e26c687b0b5758c6af079'),
  pin('group3-shard1of1', 'block2_conv1', '71a6dbaa06d7e454db3e56d6d2eb5f2defd8b60cccd5af5fc8a6b773be1c5aa5'),
  pin('group4-shard1of1', 'block2_conv2', 'ab1d44f13a37e4af119cc56c7e9a4f8ab4ba281019cb057737d5e2f47dae2268'),
  pin('group5-shard1of1', 'block3_conv1', 'df21209f6d1a0bfd90a17eb705fbb9b520ece764914a067b0d94cefe99a43318'),
  pin('group6-shard1of1', 'block3_conv2', '3b44315d503e5f24957aef369df5e89a1d54fdcbd78e93c93df560d1ff0ba11d'),
  pin('group7-shard1of1', 'block3_conv3', 'f94ad0c1d2fcb380fe57649a0764a25e7602a436efb8767ce65faf28964f10d0'),
  pin('group8-shard1of1', 'block3_conv4', 'f0dc43a70868cb7edce398eac3422b45fb93333c2e6c274f89adc969c37791ee'),
];

function pin(file: string, layer: string, sha256: string): PinnedShard {
  return { file, layer, sha256 };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/** sha256 (lowercase hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parses `checksums.json`: an object mapping file names to sha256 hex. */
export function parseChecksumsJson(text: string, source: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${source} must be an object mapping file names to sha256 hashes`);
  }
  const sums = new Map<string, string>();
  for (const [file, hash] of Object.entries(json)) {
    const lower = typeof hash === 'string' ? hash.toLowerCase() : hash;
    if (!isSha256(lower)) throw new Error(`${source}: the hash for ${file} is not a sha256 hex digest`);
    sums.set(file, lower);
  }
  return sums;
}

/** Parses `sha256sum` output: `<hex>  <name>` or `<hex> *<name>` lines; blank lines and `#` comments skipped. */
export function parseSha256Sums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new Error(`${source} line ${i + 1} is not a sha256sum line: ${JSON.stringify(line)}`);
    sums.set(match[2]!.replace(/^\.\//, ''), match[1]!.toLowerCase());
  }
  return sums;
}

/** The sums recorded in a weights directory (empty when it has none yet). */
export async function readRecordedChecksums(dir: string): Promise<Map<string, string>> {
  const path = join(dir, CHECKSUMS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  return parseChecksumsJson(text, path);
}

/** Writes the recorded sums atomically, sorted by file name. */
export async function writeRecordedChecksums(dir: string, sums: ReadonlyMap<string, string>): Promise<void> {
  const sorted = Object.fromEntries([...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFileAtomic(join(dir, CHECKSUMS_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
}
