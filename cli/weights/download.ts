import { mkdir, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import {
  groupByteLength,
  MANIFEST_FILE,
  parseManifest,
  type WeightsGroup,
  type WeightsManifest,
} from '../../engine/manifest.ts';
import {
  CHECKSUMS_FILE,
  isSha256,
  type PinnedShard,
  parseChecksumsJson,
  parseSha256Sums,
  readRecordedChecksums,
  SHA256SUMS_FILE,
  sha256File,
  VGG19_PINNED_SHARDS,
  writeRecordedChecksums,
} from './checksums.ts';
import { ChecksumMismatchError, WeightsDownloadError } from './errors.ts';
import { fileSize, removeIfExists, syncFile } from './fs-util.ts';
import { openSource, type WeightsSource } from './transfer.ts';

export { CHECKSUMS_FILE, type PinnedShard, VGG19_PINNED_SHARDS } from './checksums.ts';
export { ChecksumMismatchError, WeightsDownloadError, type WeightsErrorCode } from './errors.ts';

/**
 * The TensorFlow.js conversion of the Keras VGG-19 (MIT): `model.json` whose `weightsManifest` holds one group
 * per layer, `group1-shard1of1`..`group16-shard1of1` being the 16 convolution layers and the later groups the
 * fully connected ones (not downloaded).
 */
export const DEFAULT_WEIGHTS_URL =
  'https://raw.githubusercontent.com/DavidCai1993/vgg19-tensorflowjs-model/master/model/';

/** The convolution layers of VGG-19, in network order (Keras names). */
export const VGG19_CONV_LAYERS: readonly string[] = [
  ...['block1_conv1', 'block1_conv2', 'block2_conv1', 'block2_conv2'],
  ...[1, 2, 3, 4].map((i) => `block3_conv${i}`),
  ...[1, 2, 3, 4].map((i) => `block4_conv${i}`),
  ...[1, 2, 3, 4].map((i) => `block5_conv${i}`),
];

/** Refuse sources whose convolution weights add up to more than this (VGG-19's are 80 MB). */
export const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;
/** model.json, checksum lists: far below this. */
const MAX_TEXT_BYTES = 16 * 1024 * 1024;
const SOURCE_MANIFESTS = ['model.json', MANIFEST_FILE] as const;
const CONV_WEIGHT = /^(block\d+_conv\d+)\/(kernel|bias)$/;
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
const RESERVED_FILES = new Set([MANIFEST_FILE, CHECKSUMS_FILE, SHA256SUMS_FILE, 'model.json']);

export interface DownloadProgress {
  /** The shard being fetched. */
  readonly file: string;
  /** Bytes of it on disk so far (a resumed download starts at the earlier part's size). */
  readonly received: number;
  /** Its size, when known (always for one-shard groups). */
  readonly total: number | undefined;
  /** Bytes of all the shards this run fetches, so far. */
  readonly overallReceived: number;
  /** Bytes of all the shards this run fetches (shards already installed are not counted). */
  readonly overallTotal: number;
}

export interface DownloadWeightsOptions {
  /** Base URL (http/https) or local directory holding `model.json` or `weights_manifest.json` and the shards;
   *  or the URL/path of such a `.json` file itself. Default: {@link DEFAULT_WEIGHTS_URL}. */
  readonly from?: string;
  /** The directory to install into (the CLI's default: defaultWeightsDir in location.ts). */
  readonly dir: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Stops the download; what is on disk stays there to be resumed, and no manifest is written. */
  readonly signal?: AbortSignal;
  /** Tries per request (default 3). */
  readonly attempts?: number;
  /** Base backoff between tries, doubled each time (default 500 ms). */
  readonly retryDelayMs?: number;
  /** Idle timeout per request: no response or no bytes for this long fails the try (default 30 s). */
  readonly timeoutMs?: number;
  /** Sanity cap on the convolution weights' total size (default {@link DEFAULT_MAX_BYTES}). */
  readonly maxBytes?: number;
  /** Known shard hashes (default {@link VGG19_PINNED_SHARDS}; `[]` for none). */
  readonly pinned?: readonly PinnedShard[];
}

export interface DownloadWeightsResult {
  /** The weights directory (absolute). */
  readonly dir: string;
  /** The convolution layers installed, in manifest order, e.g. `['block1_conv1', ...]`. */
  readonly layers: string[];
  /** Bytes of all the installed shards. */
  readonly bytes: number;
  /** Shards fetched by this run. */
  readonly downloaded: number;
  /** Shards that were already installed and verified, so not fetched. */
  readonly skipped: number;
}

interface Expectation {
  readonly sha256: string;
  readonly from: string;
}

type ShardState = 'ok' | 'unverified' | 'bad' | 'missing';

interface ShardPlan {
  readonly name: string;
  readonly group: WeightsGroup;
  state: ShardState;
  size: number | undefined;
}

/**
 * Installs the VGG-19 convolution weights into `dir`: only the groups whose weights are all `block*_conv*`,
 * each shard downloaded to `<name>.part` (resuming an earlier one with a Range request), checked for size and
 * sha256, then renamed into place. `weights_manifest.json` is written last and atomically, so a directory
 * that has one is complete: the engine reads only the shards its manifest lists.
 *
 * sha256 sources, all of which a shard must match: the pins in the code ({@link VGG19_PINNED_SHARDS}), a
 * `checksums.json` or `SHA256SUMS` the source ships, and the hashes recorded in `dir/checksums.json` by
 * earlier runs (trust on first use for shards nothing else vouches for, such as groups 9-16 of the default
 * source: the first download records them and every later run must agree).
 */
export async function downloadWeights(opts: DownloadWeightsOptions): Promise<DownloadWeightsResult> {
  const dir = resolve(opts.dir);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const signal = opts.signal;
  let from = opts.from ?? DEFAULT_WEIGHTS_URL;
  let manifestNames: readonly string[] = SOURCE_MANIFESTS;
  const jsonFile = /([^/\\]+\.json)$/i.exec(from);
  if (jsonFile) {
    manifestNames = [jsonFile[1]!];
    from = from.slice(0, -jsonFile[1]!.length) || '.';
  }
  const source = openSource(from, {
    attempts: Math.max(1, opts.attempts ?? 3),
    retryDelayMs: opts.retryDelayMs ?? 500,
    timeoutMs: opts.timeoutMs ?? 30_000,
    signal,
  });
  if (source.local && resolve(source.location) === dir) {
    throw new WeightsDownloadError(
      'SOURCE',
      `the weights source and the target are the same directory: ${dir}`,
    );
  }

  const groups = await readSourceGroups(source, manifestNames);
  const layers = layerNames(groups);
  const bytes = groups.reduce((sum, g) => sum + groupByteLength(g), 0);
  if (bytes > maxBytes) {
    throw new WeightsDownloadError(
      'SIZE',
      `the convolution weights at ${source.location} add up to ${bytes} bytes, over the ${maxBytes}-byte cap`,
    );
  }
  const sourceSums = await readSourceChecksums(source);
  const pins = pinsFor(groups, opts.pinned ?? VGG19_PINNED_SHARDS);

  await mkdir(dir, { recursive: true });
  const recorded = await readRecordedChecksums(dir);
  const recordedFrom = `recorded in ${join(dir, CHECKSUMS_FILE)} when first downloaded; delete that file to trust the new one`;
  const expectationsFor = (name: string): Expectation[] => {
    const out: Expectation[] = [];
    const pinned = pins.get(name);
    if (pinned) out.push({ sha256: pinned, from: 'pinned' });
    const shipped = sourceSums.get(name);
    if (shipped) out.push(shipped);
    const mine = recorded.get(name);
    if (mine) out.push({ sha256: mine, from: recordedFrom });
    return out;
  };

  // Plan: which shards are installed and verified already.
  const plans: ShardPlan[] = [];
  for (const group of groups) {
    for (const name of group.paths) {
      signal?.throwIfAborted();
      const path = join(dir, name);
      const size = await fileSize(path);
      let state: ShardState = 'missing';
      if (size !== undefined) {
        const expectations = expectationsFor(name);
        if (group.paths.length === 1 && size !== groupByteLength(group)) state = 'bad';
        else if (expectations.length === 0) state = 'unverified';
        else {
          const actual = await sha256File(path);
          state = expectations.every((e) => e.sha256 === actual) ? 'ok' : 'bad';
        }
      }
      plans.push({ name, group, state, size });
    }
  }
  await dropStaleManifest(dir, plans);

  const byGroup = new Map<WeightsGroup, ShardPlan[]>();
  for (const plan of plans) byGroup.set(plan.group, [...(byGroup.get(plan.group) ?? []), plan]);
  let overallTotal = 0;
  for (const [group, shards] of byGroup) {
    if (shards.every((s) => s.state === 'ok')) continue;
    overallTotal += groupByteLength(group) - okBytes(shards);
  }

  let overallReceived = 0;
  let downloaded = 0;
  for (const [group, shards] of byGroup) {
    const groupBytes = groupByteLength(group);
    const fetched: { name: string; sha256: string; size: number }[] = [];
    for (const shard of shards) {
      if (shard.state === 'ok') continue;
      const already = okBytes(shards) + fetched.reduce((sum, f) => sum + f.size, 0);
      let last = 0;
      const result = await fetchVerified(source, dir, shard.name, {
        expectedSize: group.paths.length === 1 ? groupBytes : undefined,
        maxBytes: Math.max(0, groupBytes - already),
        expectations: expectationsFor(shard.name),
        onBytes: (received, total) => {
          overallReceived += received - last;
          last = received;
          opts.onProgress?.({ file: shard.name, received, total, overallReceived, overallTotal });
        },
      });
      fetched.push({ name: shard.name, ...result });
    }
    const total = okBytes(shards) + fetched.reduce((sum, f) => sum + f.size, 0);
    if (total !== groupBytes) {
      for (const f of fetched) await removeIfExists(partPath(dir, f.name));
      throw new WeightsDownloadError(
        'SIZE',
        `the shards ${group.paths.join(', ')} hold ${total} bytes but their manifest group needs ${groupBytes}; the download was discarded`,
        { file: group.paths[0] },
      );
    }
    if (fetched.length === 0) continue;
    // Record the hashes before the shards move into place, so an installed shard always has one to be
    // checked against (this is what makes trust-on-first-use hold across runs).
    for (const f of fetched) recorded.set(f.name, f.sha256);
    await writeRecordedChecksums(dir, recorded);
    for (const f of fetched) {
      await syncFile(partPath(dir, f.name));
      await rename(partPath(dir, f.name), join(dir, f.name));
    }
    downloaded += fetched.length;
  }

  signal?.throwIfAborted();
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(groups, null, 1)}\n`);
  return { dir, layers, bytes, downloaded, skipped: plans.filter((p) => p.state === 'ok').length };
}

export interface WeightsStatus {
  /** The weights directory (absolute). */
  readonly dir: string;
  /** A manifest is present and every shard it lists is present with the right size (and hash, if verified). */
  readonly installed: boolean;
  /** The convolution layers the manifest lists, in its order. */
  readonly layers: string[];
  /** VGG-19 convolution layers the manifest does not list (`block4_conv1`..: a shallow install). */
  readonly missing: string[];
  /** Bytes of the shards the manifest lists. */
  readonly bytes: number;
  /** What is wrong, one line each: unreadable manifest, absent or mis-sized shards, hash mismatches. */
  readonly problems: string[];
}

/**
 * Which convolution layers are installed in `dir`, from its `weights_manifest.json`. Checks the listed shards'
 * sizes; with `verify`, also their sha256 against the pins and the recorded `checksums.json`.
 */
export async function weightsStatus(dir: string, opts: { verify?: boolean } = {}): Promise<WeightsStatus> {
  const abs = resolve(dir);
  const path = join(abs, MANIFEST_FILE);
  const problems: string[] = [];
  let manifest: WeightsManifest;
  try {
    manifest = parseManifest(JSON.parse(await readFile(path, 'utf8')), path);
  } catch (err) {
    const absent = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (!absent) problems.push((err as Error).message);
    return { dir: abs, installed: false, layers: [], missing: [...VGG19_CONV_LAYERS], bytes: 0, problems };
  }
  const layers = [...new Set(manifest.flatMap((g) => g.weights.map((w) => w.name.split('/')[0]!)))].filter(
    (l) => CONV_WEIGHT.test(`${l}/kernel`),
  );
  const recorded = opts.verify
    ? await readRecordedChecksums(abs).catch(() => new Map<string, string>())
    : undefined;
  const pins = pinsFor(manifest, VGG19_PINNED_SHARDS);
  for (const group of manifest) {
    let total = 0;
    for (const name of group.paths) {
      const size = await fileSize(join(abs, name));
      if (size === undefined) {
        problems.push(`${name}: missing`);
        continue;
      }
      total += size;
      if (recorded) {
        const expected = [pins.get(name), recorded.get(name)].filter((h): h is string => h !== undefined);
        if (expected.length === 0) problems.push(`${name}: no recorded sha256 to verify against`);
        else {
          const actual = await sha256File(join(abs, name));
          const wrong = expected.find((h) => h !== actual);
          if (wrong) problems.push(`${name}: sha256 ${actual}, expected ${wrong}`);
        }
      }
    }
    const want = groupByteLength(group);
    if (total !== want && group.paths.every((n) => !problems.includes(`${n}: missing`))) {
      problems.push(`${group.paths.join(', ')}: ${total} bytes, expected ${want}`);
    }
  }
  const bytes = manifest.reduce((sum, g) => sum + groupByteLength(g), 0);
  const missing = VGG19_CONV_LAYERS.filter((l) => !layers.includes(l));
  return { dir: abs, installed: problems.length === 0, layers, missing, bytes, problems };
}

/** Reads the source's manifest and keeps the convolution groups, checked to be complete and well named. */
async function readSourceGroups(source: WeightsSource, names: readonly string[]): Promise<WeightsManifest> {
  const refused: string[] = [];
  for (const name of names) {
    const text = await readOptional(source, name, refused);
    if (text === undefined) continue;
    const where = `${source.location}${source.local ? '/' : ''}${name}`;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new WeightsDownloadError('MANIFEST', `${where} is not valid JSON: ${(err as Error).message}`, {
        file: name,
      });
    }
    const raw =
      json !== null && typeof json === 'object' && 'weightsManifest' in json ? json.weightsManifest : json;
    if (!Array.isArray(raw)) {
      throw new WeightsDownloadError('MANIFEST', `${where} has no TensorFlow.js weights manifest`, {
        file: name,
      });
    }
    // Keep the groups whose weights are all convolution weights before validating, so whatever the other
    // groups hold (fully connected layers) cannot get in the way.
    const conv = raw.filter((g: unknown) => {
      const names = weightNames(g);
      if (names.length === 0) return false;
      const convCount = names.filter((n) => CONV_WEIGHT.test(n)).length;
      if (convCount > 0 && convCount < names.length) {
        throw new WeightsDownloadError(
          'MANIFEST',
          `${where}: a weights group mixes convolution and other weights (${names.join(', ')}); cannot keep only the convolutions`,
          { file: name },
        );
      }
      return convCount === names.length;
    });
    let groups: WeightsManifest;
    try {
      groups = parseManifest(conv, where);
    } catch (err) {
      throw new WeightsDownloadError('MANIFEST', (err as Error).message, { file: name });
    }
    if (groups.length === 0) {
      throw new WeightsDownloadError('MANIFEST', `${where} lists no convolution (block*_conv*) weights`, {
        file: name,
      });
    }
    checkFileNames(groups, where);
    return groups;
  }
  const why = refused.length > 0 ? ` (${refused.join('; ')})` : '';
  throw new WeightsDownloadError('SOURCE', `${source.location} has no ${names.join(' or ')}${why}`);
}

/**
 * Reads a file the source may lack. Besides 404, a client error (a bucket answering 403 for absent keys) also
 * counts as absent; it is noted in `refused` for the error message if nothing usable turns up.
 */
async function readOptional(
  source: WeightsSource,
  name: string,
  refused: string[],
): Promise<string | undefined> {
  try {
    return await source.readText(name, MAX_TEXT_BYTES);
  } catch (err) {
    // 408 and 429 are worth another try (undici's retries gave up on them), not a sign the file is absent.
    const status = err instanceof WeightsDownloadError ? (err.status ?? 0) : 0;
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      refused.push((err as WeightsDownloadError).message);
      return undefined;
    }
    throw err;
  }
}

function weightNames(group: unknown): string[] {
  if (group === null || typeof group !== 'object' || !('weights' in group) || !Array.isArray(group.weights)) {
    return [];
  }
  return group.weights.map((w: unknown) =>
    w !== null && typeof w === 'object' && 'name' in w && typeof w.name === 'string' ? w.name : '',
  );
}

/** Shard names become file names in the weights directory: plain names only, each once. */
function checkFileNames(groups: WeightsManifest, where: string): void {
  const seen = new Set<string>();
  for (const name of groups.flatMap((g) => g.paths)) {
    if (!SAFE_FILE.test(name) || RESERVED_FILES.has(name) || /\.(part|tmp)$/i.test(name)) {
      throw new WeightsDownloadError(
        'MANIFEST',
        `${where} names a shard ${JSON.stringify(name)}: not a plain file name`,
      );
    }
    if (seen.has(name)) throw new WeightsDownloadError('MANIFEST', `${where} lists the shard ${name} twice`);
    seen.add(name);
  }
}

/** The convolution layers, in order; each must have a kernel [kh,kw,in,out] and a bias [out], once. */
function layerNames(groups: WeightsManifest): string[] {
  const kernels = new Map<string, number[]>();
  const biases = new Map<string, number[]>();
  const order: string[] = [];
  for (const w of groups.flatMap((g) => g.weights)) {
    const [, layer, kind] = CONV_WEIGHT.exec(w.name)!;
    const into = kind === 'kernel' ? kernels : biases;
    if (into.has(layer!)) throw new WeightsDownloadError('MANIFEST', `the weights list ${w.name} twice`);
    into.set(layer!, w.shape);
    if (!order.includes(layer!)) order.push(layer!);
  }
  for (const layer of order) {
    const kernel = kernels.get(layer);
    const bias = biases.get(layer);
    if (!kernel || !bias || kernel.length !== 4 || bias.length !== 1 || kernel[3] !== bias[0]) {
      throw new WeightsDownloadError(
        'MANIFEST',
        `layer ${layer} needs a kernel [h,w,in,out] and a bias [out]; the manifest has kernel ${JSON.stringify(kernel ?? null)}, bias ${JSON.stringify(bias ?? null)}`,
      );
    }
  }
  return order;
}

/** The source's own checksums (`checksums.json` and/or `SHA256SUMS`), which must agree with each other. */
async function readSourceChecksums(source: WeightsSource): Promise<Map<string, Expectation>> {
  const sums = new Map<string, Expectation>();
  for (const [file, parse] of [
    [CHECKSUMS_FILE, parseChecksumsJson],
    [SHA256SUMS_FILE, parseSha256Sums],
  ] as const) {
    const text = await readOptional(source, file, []);
    if (text === undefined) continue;
    const from = `listed in the source's ${file}`;
    let parsed: Map<string, string>;
    try {
      parsed = parse(text, file);
    } catch (err) {
      throw new WeightsDownloadError('MANIFEST', `${source.location}: ${(err as Error).message}`, { file });
    }
    for (const [name, sha256] of parsed) {
      const other = sums.get(name);
      if (other && other.sha256 !== sha256) {
        throw new WeightsDownloadError('MANIFEST', `the source's checksum files disagree about ${name}`, {
          file,
        });
      }
      if (isSha256(sha256)) sums.set(name, { sha256, from });
    }
  }
  return sums;
}

/** Pins that apply: the pinned file is a one-shard group holding exactly the pinned layer. */
function pinsFor(groups: WeightsManifest, pins: readonly PinnedShard[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const pin of pins) {
    const group = groups.find((g) => g.paths.length === 1 && g.paths[0] === pin.file);
    if (group?.weights.every((w) => w.name.split('/')[0] === pin.layer)) out.set(pin.file, pin.sha256);
  }
  return out;
}

function partPath(dir: string, name: string): string {
  return join(dir, `${name}.part`);
}

function okBytes(shards: readonly ShardPlan[]): number {
  return shards.reduce((sum, s) => sum + (s.state === 'ok' ? (s.size ?? 0) : 0), 0);
}

/**
 * Removes an existing manifest that lists a shard which is absent or known to be wrong, or whose group this
 * run describes differently: such a directory is not complete, and a manifest there would lie about it.
 * A manifest whose shards are all fine stays until the new one replaces it.
 */
async function dropStaleManifest(dir: string, plans: readonly ShardPlan[]): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  let old: WeightsManifest;
  try {
    old = parseManifest(JSON.parse(await readFile(path, 'utf8')), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    await removeIfExists(path);
    return;
  }
  const planned = new Map(plans.map((p) => [p.name, p]));
  for (const group of old) {
    for (const name of group.paths) {
      const plan = planned.get(name);
      const stale = plan
        ? plan.state === 'missing' ||
          plan.state === 'bad' ||
          (plan.state !== 'ok' && JSON.stringify(plan.group) !== JSON.stringify(group))
        : (await fileSize(join(dir, name))) === undefined;
      if (stale) {
        await removeIfExists(path);
        return;
      }
    }
  }
}

/**
 * Fetches one shard into its `.part` and checks its size and sha256. A mismatch deletes the `.part`; when the
 * bad file had been resumed from an earlier run's part, it is fetched once more from scratch before failing.
 */
async function fetchVerified(
  source: WeightsSource,
  dir: string,
  name: string,
  opts: {
    expectedSize: number | undefined;
    maxBytes: number;
    expectations: readonly Expectation[];
    onBytes: (received: number, total: number | undefined) => void;
  },
): Promise<{ sha256: string; size: number }> {
  const part = partPath(dir, name);
  for (let fresh = false; ; fresh = true) {
    const { size, resumedFrom } = await source.fetchTo(name, part, opts);
    if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
      await removeIfExists(part);
      throw new WeightsDownloadError(
        'SIZE',
        `${name} is ${size} bytes but its manifest group needs ${opts.expectedSize}; the download was discarded`,
        { file: name },
      );
    }
    const sha256 = await sha256File(part);
    const wrong = opts.expectations.find((e) => e.sha256 !== sha256);
    if (!wrong) return { sha256, size };
    await removeIfExists(part);
    if (resumedFrom > 0 && !fresh) continue;
    throw new ChecksumMismatchError(name, wrong.sha256, sha256, wrong.from);
  }
}
