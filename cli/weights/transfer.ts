import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RetryAgent } from 'undici';
import {
  allowOrigins,
  DownloadError,
  type DownloadPolicy,
  discard,
  download,
  downloadAgent,
  downloadFailure,
  type OpenedDownload,
  openDownload,
} from '../../lib/download.ts';
import { WeightsDownloadError, type WeightsErrorCode } from './errors.ts';
import { fileSize, removeIfExists } from './fs-util.ts';

/** How a source is read: retries, timeouts and cancellation. */
export interface TransferOptions {
  /** Tries per request, the first included (network errors, timeouts, 5xx, 408, 429 are retried). */
  readonly attempts: number;
  /** Backoff before the n-th retry: `retryDelayMs * 2^(n-1)`, at most 30 s; a server's Retry-After wins. */
  readonly retryDelayMs: number;
  /** A request fails when no response, or no body bytes, arrive for this long. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/** Called as a shard's bytes arrive: bytes of the shard on disk so far, and its size when known. */
export type BytesCallback = (received: number, total: number | undefined) => void;

export interface FetchToOptions {
  /** The exact size the shard must have, when the manifest says so (single-shard groups). */
  readonly expectedSize: number | undefined;
  /** The most bytes the shard may have (its group's remaining bytes, within the overall cap). */
  readonly maxBytes: number;
  readonly onBytes: BytesCallback;
}

export interface FetchResult {
  /** Size of the completed `.part`. */
  readonly size: number;
  /** Bytes of an earlier partial download that this one continued from (0: downloaded from scratch). */
  readonly resumedFrom: number;
}

/** Where the weights come from: a base URL or a local directory. */
export interface WeightsSource {
  /** The URL or directory, for messages. */
  readonly location: string;
  /** Whether `location` is a local directory (resolved to an absolute path). */
  readonly local: boolean;
  /** Reads a small text file; undefined when the source has no such file. */
  readText(name: string, maxBytes: number): Promise<string | undefined>;
  /**
   * Brings a shard into `partPath`. Over HTTP a `.part` left by an earlier run is continued with a Range
   * request; a local source is copied afresh.
   */
  fetchTo(name: string, partPath: string, opts: FetchToOptions): Promise<FetchResult>;
}

/** `from` is a URL when it starts with http:// or https:// (file:// URLs are local directories). */
export function openSource(from: string, opts: TransferOptions): WeightsSource {
  if (/^https?:\/\//i.test(from)) {
    let base: URL;
    try {
      base = new URL(from.endsWith('/') ? from : `${from}/`);
    } catch (err) {
      throw new WeightsDownloadError('SOURCE', `invalid weights URL ${from}`, { cause: err });
    }
    return new HttpSource(base, opts);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from) && !/^file:/i.test(from)) {
    throw new WeightsDownloadError(
      'SOURCE',
      `unsupported weights source ${from}: use http(s):// or a directory`,
    );
  }
  const dir = /^file:/i.test(from) ? fileURLToPath(from) : resolve(from);
  return new LocalSource(dir, opts);
}

/**
 * Retries (network errors, timeouts, 408, 429 and 5xx, honouring Retry-After) are undici's RetryAgent, which also
 * continues a body cut off mid-way with a Range request for the rest; continuing a `.part` left by an earlier run
 * is done here. Requests go through the shared download helper: only to the source's origin, redirects included,
 * never an HTML page, and with an idle limit (no response, or no body bytes, for `timeoutMs`) rather than a
 * deadline, so an 80 MB shard on a slow but live link is not cut off.
 */
class HttpSource implements WeightsSource {
  readonly local = false;
  readonly location: string;
  private readonly retries: RetryAgent;

  constructor(
    private readonly base: URL,
    private readonly opts: TransferOptions,
  ) {
    this.location = base.href;
    this.retries = new RetryAgent(downloadAgent, {
      maxRetries: opts.attempts - 1,
      minTimeout: opts.retryDelayMs,
      timeoutFactor: 2,
      maxTimeout: 30_000,
      statusCodes: [408, 429, 500, 502, 503, 504],
      errorCodes: [...RETRIED_ERRORS],
    });
  }

  async readText(name: string, maxBytes: number): Promise<string | undefined> {
    try {
      return (await download(new URL(name, this.base), this.policy(maxBytes, {}))).toString('utf8');
    } catch (error) {
      const status = error instanceof DownloadError ? error.status : undefined;
      if (status === 404 || status === 410) return undefined;
      throw this.translate(error, name);
    }
  }

  async fetchTo(name: string, partPath: string, opts: FetchToOptions): Promise<FetchResult> {
    const url = new URL(name, this.base);
    const { expectedSize } = opts;
    const limit = expectedSize ?? opts.maxBytes;
    let offset = (await fileSize(partPath)) ?? 0;
    if (offset > limit) {
      await removeIfExists(partPath);
      offset = 0;
    }
    // A .part that is already whole (a run stopped between download and verification) needs no request.
    if (expectedSize !== undefined && offset === expectedSize && offset > 0) {
      opts.onBytes(offset, expectedSize);
      return { size: offset, resumedFrom: offset };
    }
    const policy = this.policy(limit, offset > 0 ? { range: `bytes=${offset}-` } : {});
    const response = await this.open(url, name, policy);
    try {
      let start = 0;
      let total: number | undefined;
      const range = parseContentRange(response.header('content-range') ?? null);
      if (response.status === 206 && offset > 0) {
        // Not the range asked for: start over rather than splice mismatched bytes.
        if (range?.start !== offset) return await this.restart(name, partPath, opts);
        start = offset;
        total = range.total;
      } else if (response.status === 416 && offset > 0) {
        if (range?.total === offset && (expectedSize === undefined || expectedSize === offset)) {
          opts.onBytes(offset, offset);
          return { size: offset, resumedFrom: offset };
        }
        return await this.restart(name, partPath, opts);
      } else {
        if (response.status < 200 || response.status >= 300) {
          throw new WeightsDownloadError('HTTP', `GET ${url.href} failed: HTTP ${response.status}`, {
            file: name,
            status: response.status,
          });
        }
        // 200 to a Range request: the server sends the whole file, so the .part restarts from zero.
        const length = Number(response.header('content-length'));
        const encoded = response.header('content-encoding') !== undefined;
        total = Number.isSafeInteger(length) && length >= 0 && !encoded ? length : undefined;
      }
      if (total !== undefined && expectedSize !== undefined && total !== expectedSize) {
        throw new WeightsDownloadError(
          'SIZE',
          `${url.href} is ${total} bytes but the manifest says ${name} holds ${expectedSize}`,
          { file: name },
        );
      }
      if (total !== undefined && total > limit) {
        throw new WeightsDownloadError(
          'SIZE',
          `${url.href} is ${total} bytes, more than the ${limit} allowed`,
          {
            file: name,
          },
        );
      }
      const handle = await open(partPath, start > 0 ? 'a' : 'w');
      let size = start;
      try {
        opts.onBytes(size, total);
        for await (const chunk of this.body(response, name, policy)) {
          size += chunk.length;
          if (size > limit) {
            throw new WeightsDownloadError('SIZE', `${url.href} sent more than the ${limit} bytes allowed`, {
              file: name,
            });
          }
          await handle.write(chunk);
          opts.onBytes(size, total);
        }
      } finally {
        await handle.close();
      }
      const want = total ?? expectedSize;
      if (want !== undefined && size < want) {
        throw new WeightsDownloadError(
          'NETWORK',
          `${url.href}: the connection closed after ${size} of ${want} bytes`,
          {
            file: name,
          },
        );
      }
      return { size, resumedFrom: start };
    } finally {
      await discard(response.body);
    }
  }

  /** Drops a `.part` the server will not continue, and downloads the shard from its start (no Range, so once). */
  private async restart(name: string, partPath: string, opts: FetchToOptions): Promise<FetchResult> {
    await removeIfExists(partPath);
    return this.fetchTo(name, partPath, opts);
  }

  /** Only the source's origin, never a web page, with undici's retries and an idle limit. */
  private policy(maxBytes: number, headers: Record<string, string>): DownloadPolicy {
    return {
      isAllowed: allowOrigins([this.base.origin]),
      maxBytes,
      idleTimeoutMs: this.opts.timeoutMs,
      headers: { ...headers, 'accept-encoding': 'identity', 'user-agent': 'stylize-bot weights downloader' },
      dispatcher: this.retries,
      signal: this.opts.signal,
      hint: 'the address of a web page rather than of the files (on GitHub, the raw.githubusercontent.com one)',
    };
  }

  private async open(url: URL, name: string, policy: DownloadPolicy): Promise<OpenedDownload> {
    try {
      return await openDownload(url, policy);
    } catch (error) {
      throw this.translate(error, name);
    }
  }

  private async *body(
    response: OpenedDownload,
    name: string,
    policy: DownloadPolicy,
  ): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) yield chunk;
    } catch (error) {
      throw this.translate(downloadFailure(error, response.url, policy), name);
    }
  }

  /** In the operator's words, with "after N tries" where undici's retries were spent on it. */
  private translate(error: unknown, name: string): unknown {
    if (this.opts.signal?.aborted) return this.opts.signal.reason;
    if (!(error instanceof DownloadError)) return error;
    const retried = (error.code === 'timeout' || error.code === 'unavailable') && this.opts.attempts > 1;
    const { status } = error;
    const message = `${error.detail}${retried ? ` (after ${this.opts.attempts} tries)` : ''}`;
    const code =
      error.code === 'unavailable' && status === undefined ? 'NETWORK' : DOWNLOAD_CODES[error.code];
    return new WeightsDownloadError(code, message, {
      file: name,
      status,
      cause: error,
    });
  }
}

/** undici's retried network errors, and its timeouts (a server that stops answering may answer the next try). */
const RETRIED_ERRORS = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
] as const;

const DOWNLOAD_CODES: Record<DownloadError['code'], WeightsErrorCode> = {
  host: 'SOURCE',
  'too-large': 'SIZE',
  timeout: 'NETWORK',
  unavailable: 'HTTP',
  'content-type': 'CONTENT',
};

class LocalSource implements WeightsSource {
  readonly local = true;

  constructor(
    readonly location: string,
    private readonly opts: TransferOptions,
  ) {}

  async readText(name: string, maxBytes: number): Promise<string | undefined> {
    const path = join(this.location, name);
    const size = await fileSize(path);
    if (size === undefined) {
      await this.checkDir();
      return undefined;
    }
    if (size > maxBytes) throw new WeightsDownloadError('SIZE', `${path} is larger than ${maxBytes} bytes`);
    return readFile(path, 'utf8');
  }

  async fetchTo(name: string, partPath: string, opts: FetchToOptions): Promise<FetchResult> {
    const path = join(this.location, name);
    const size = await fileSize(path);
    if (size === undefined) {
      throw new WeightsDownloadError('SOURCE', `${this.location} has no shard ${name}`, { file: name });
    }
    if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
      throw new WeightsDownloadError(
        'SIZE',
        `${path} is ${size} bytes but the manifest says ${name} holds ${opts.expectedSize}`,
        { file: name },
      );
    }
    if (size > opts.maxBytes) {
      throw new WeightsDownloadError(
        'SIZE',
        `${path} is ${size} bytes, more than the ${opts.maxBytes} allowed`,
        {
          file: name,
        },
      );
    }
    const handle: FileHandle = await open(partPath, 'w');
    let copied = 0;
    try {
      opts.onBytes(0, size);
      const stream = size === 0 ? [] : createReadStream(path, { signal: this.opts.signal, end: size - 1 });
      for await (const chunk of stream) {
        copied += (chunk as Buffer).length;
        await handle.write(chunk as Buffer);
        opts.onBytes(copied, size);
      }
    } catch (err) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason;
      throw err;
    } finally {
      await handle.close();
    }
    return { size: copied, resumedFrom: 0 };
  }

  private async checkDir(): Promise<void> {
    const s = await stat(this.location).catch(() => undefined);
    if (!s?.isDirectory()) {
      throw new WeightsDownloadError('SOURCE', `weights source ${this.location} is not a directory`);
    }
  }
}

// Parses Content-Range: "bytes START-END/TOTAL", or "bytes */TOTAL" in 416 answers.
export function parseContentRange(
  header: string | null,
): { start: number | undefined; total: number | undefined } | undefined {
  if (!header) return undefined;
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(header.trim());
  if (!match) return undefined;
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    total: match[3] === '*' || match[3] === undefined ? undefined : Number(match[3]),
  };
}
