import { mkdir, readFile, rename } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { probeImage } from '../../lib/images/index.ts';
import { type Catalogue, type CataloguePainting, paintingExtension } from '../../presets/catalogue.ts';
import { presetFiles } from '../../presets/files.ts';
import { readRecordedChecksums, sha256File, writeRecordedChecksums } from '../weights/checksums.ts';
import { ChecksumMismatchError, WeightsDownloadError } from '../weights/errors.ts';
import { removeIfExists, syncFile } from '../weights/fs-util.ts';
import { openSource, type TransferOptions } from '../weights/transfer.ts';

/**
 * No painting file is larger than this. The catalogue's sources are renditions of a few MB (1920 px wide); a
 * larger answer (an original, a mirror's oversized file) is refused before it is read when its size is declared.
 */
export const MAX_PRESET_BYTES = 25 * 1024 * 1024;

export interface PresetProgress {
  /** The painting being fetched, and its place in the catalogue (1-based). */
  readonly id: string;
  readonly index: number;
  readonly count: number;
  readonly received: number;
  readonly total: number | undefined;
}

export interface SetupPresetsOptions {
  readonly catalogue: Catalogue;
  /** The presets directory (PRESETS_DIR). */
  readonly dir: string;
  /** A local directory or base URL holding files named by id (`starry_night.jpg`), instead of the sources. */
  readonly from?: string;
  readonly onProgress?: (progress: PresetProgress) => void;
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface SetupPresetsResult {
  readonly dir: string;
  readonly downloaded: string[];
  readonly skipped: string[];
  /** Paintings that could not be installed, each with one clear line. */
  readonly failed: { id: string; error: string }[];
}

/**
 * Installs every catalogue painting into the presets directory as `<id>.<ext>`, from its source: a size-limited
 * rendition (a Commons thumbnail, see catalogue.ts), so that the multi-hundred-megabyte originals of some scans,
 * over the bot's image limits, are never fetched. Each download goes to a
 * `.part`, must be an image the bot accepts, and must match the painting's sha256: the catalogue's when it
 * has one, else the one recorded in the directory's `checksums.json` by the first download (trust on first
 * use, as for the weights). Files already there are checked against the same sums and kept. One painting's
 * failure does not stop the others; it is reported in `failed`.
 */
export async function setupPresets(opts: SetupPresetsOptions): Promise<SetupPresetsResult> {
  const { dir, catalogue } = opts;
  await mkdir(dir, { recursive: true });
  const transfer: TransferOptions = {
    attempts: opts.attempts ?? 4,
    retryDelayMs: opts.retryDelayMs ?? 1000,
    timeoutMs: opts.timeoutMs ?? 60_000,
    signal: opts.signal,
  };
  const mirror = opts.from === undefined ? undefined : openSource(opts.from, transfer);
  const mirrorFiles = mirror?.local ? await presetFiles(mirror.location) : undefined;
  const sums = new Map(await readRecordedChecksums(dir));
  const result: SetupPresetsResult = { dir, downloaded: [], skipped: [], failed: [] };
  const count = catalogue.paintings.length;
  // A host that could not be reached is not tried again for the next paintings: offline, one painting's
  // retries are enough to know.
  const unreachable = new Map<string, WeightsDownloadError>();

  for (const [i, painting] of catalogue.paintings.entries()) {
    opts.signal?.throwIfAborted();
    const report = (received: number, total: number | undefined): void =>
      opts.onProgress?.({ id: painting.id, index: i + 1, count, received, total });
    let location = painting.source;
    try {
      const installed = (await presetFiles(dir)).get(painting.id);
      if (installed) {
        const file = basename(installed);
        await verifyOrRecord(painting, installed, file, sums, dir);
        result.skipped.push(painting.id);
        report(1, 1);
        continue;
      }
      let source = openSourceFor(painting, transfer);
      let name = new URL(painting.source).pathname.split('/').pop() ?? '';
      let ext = paintingExtension(painting);
      if (mirror) {
        source = mirror;
        const local = mirrorFiles?.get(painting.id);
        if (mirrorFiles && !local) throw new Error(`${mirror.location} has no file named ${painting.id}.*`);
        if (local) ext = extname(local).toLowerCase();
        name = `${painting.id}${ext}`;
      }
      location = source.location;
      const earlier = unreachable.get(originOf(location));
      if (earlier) throw earlier;
      const file = `${painting.id}${ext}`;
      const target = join(dir, file);
      const part = `${target}.part`;
      try {
        const notImage = (why: string) =>
          new Error(
            `${painting.id}: the download from ${source.location} is not an image the bot accepts (${why})`,
          );
        await source
          .fetchTo(name, part, { expectedSize: undefined, maxBytes: MAX_PRESET_BYTES, onBytes: report })
          .catch((err: unknown) => {
            throw err instanceof WeightsDownloadError && err.code === 'CONTENT' ? notImage(err.message) : err;
          });
        await probeImage(await readFile(part)).catch((err: unknown) => {
          throw notImage((err as Error).message);
        });
        const actual = await sha256File(part);
        const expected = painting.sha256 ?? sums.get(file);
        if (expected !== undefined && expected !== actual) {
          throw new ChecksumMismatchError(
            file,
            expected,
            actual,
            painting.sha256 ? 'the catalogue' : 'recorded on first download',
          );
        }
        await syncFile(part);
        await rename(part, target);
        sums.set(file, actual);
        await writeRecordedChecksums(dir, sums);
        result.downloaded.push(painting.id);
      } finally {
        await removeIfExists(part);
      }
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (err instanceof WeightsDownloadError && err.code === 'NETWORK')
        unreachable.set(originOf(location), err);
      result.failed.push({ id: painting.id, error: failureReason(err, location) });
    }
  }
  return result;
}

/**
 * Why a painting was not installed, in one sentence its operator can act on: a host that could not be reached
 * (no network, a name that does not resolve) or that has no file at the address, in those words with the
 * remedy; other failures (not an image, a changed file) as their own errors say it. `location`: the URL or
 * directory it was fetched from.
 */
export function failureReason(error: unknown, location: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof WeightsDownloadError) || !/^https?:/.test(location)) return message;
  const { host } = new URL(location);
  const tries = / \(after (\d+) tries\)$/.exec(message)?.[1];
  const mirror = 'install it from a mirror with `stylize presets setup --from <dir|url>`';
  if (error.code === 'NETWORK') {
    const why = systemErrorCode(error) ?? 'no answer';
    return `could not reach ${host} (${why}${tries ? `, after ${tries} tries` : ''}): check this machine's network access, or ${mirror}`;
  }
  if (error.code === 'HTTP' && (error.status === 404 || error.status === 410)) {
    return `${host} has no file at the address asked for (HTTP ${error.status}): it may have moved; ${mirror}`;
  }
  if (error.code === 'HTTP' && error.status !== undefined) {
    return `${host} answered HTTP ${error.status}${tries ? ` after ${tries} tries` : ''}; try again later, or ${mirror}`;
  }
  return message;
}

/** The origin of a URL (a host's paintings share its reachability); a directory stands for itself. */
const originOf = (location: string) => (/^https?:/.test(location) ? new URL(location).origin : location);

/** The system's or undici's code (ENOTFOUND, ECONNREFUSED, UND_ERR_…) that a failure was caused by, if any. */
function systemErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
  }
  return undefined;
}

/** A source for one painting: the directory of its URL, so the transfer code resolves the file name in it. */
function openSourceFor(painting: CataloguePainting, transfer: TransferOptions) {
  const url = new URL(painting.source);
  return openSource(new URL('.', url).href, transfer);
}

/** Checks a file already installed against its known sha256, or records it (trust on first use). */
async function verifyOrRecord(
  painting: CataloguePainting,
  path: string,
  file: string,
  sums: Map<string, string>,
  dir: string,
): Promise<void> {
  const actual = await sha256File(path);
  const expected = painting.sha256 ?? sums.get(file);
  if (expected === undefined) {
    sums.set(file, actual);
    await writeRecordedChecksums(dir, sums);
    return;
  }
  if (expected !== actual) {
    throw new WeightsDownloadError(
      'CHECKSUM',
      `${path} has sha256 ${actual}, not the ${expected} ${painting.sha256 ? 'in the catalogue' : 'recorded when it was downloaded'}: the file was changed or replaced; delete it and run \`stylize presets setup\` again`,
      { file },
    );
  }
}

/** Which catalogue paintings are installed in a presets directory. */
export async function presetsStatus(
  catalogue: Catalogue,
  dir: string,
): Promise<{ painting: CataloguePainting; file: string | undefined }[]> {
  const files = await presetFiles(dir);
  return catalogue.paintings.map((painting) => ({ painting, file: files.get(painting.id) }));
}
