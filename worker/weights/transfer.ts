import { createReadStream } from 'node:fs';
import { type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WeightsDownloadError } from './errors.ts';
import { fileSize, removeIfExists } from './fs-util.ts';

/** How a source is read: retries, timeouts and cancellation. */
export interface TransferOptions {
  /** Tries per request, the first included (network errors, timeouts, 5xx, 408, 429 are retried). */
  readonly attempts: number;
  /** Backoff before the n-th retry: `retryDelayMs * 2^(n-1)`, jittered, at most 30 s. */
  readonly retryDelayMs: number;
  /** A request fails when no response, or no body bytes, arrive for this long. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly fetch: typeof globalThis.fetch;
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

class HttpSource implements WeightsSource {
  readonly local = false;
  readonly location: string;

  constructor(
    private readonly base: URL,
    private readonly opts: TransferOptions,
  ) {
    this.location = base.href;
  }

  async readText(name: string, maxBytes: number): Promise<string | undefined> {
    const url = new URL(name, this.base).href;
    return this.withRetries(name, async () => {
      const { response, watchdog } = await this.request(url, name, {});
      try {
        if (response.status === 404 || response.status === 410) return undefined;
        checkStatus(response, name, url);
        const chunks: Buffer[] = [];
        let length = 0;
        for await (const chunk of watchdog.body(response)) {
          length += chunk.length;
          if (length > maxBytes) {
            throw new WeightsDownloadError('SIZE', `${url} is larger than ${maxBytes} bytes`, { file: name });
          }
          chunks.push(chunk);
        }
        return Buffer.concat(chunks).toString('utf8');
      } finally {
        watchdog.stop();
        await discard(response);
      }
    });
  }

  async fetchTo(name: string, partPath: string, opts: FetchToOptions): Promise<FetchResult> {
    const url = new URL(name, this.base).href;
    const { expectedSize } = opts;
    return this.withRetries(name, async () => {
      let offset = (await fileSize(partPath)) ?? 0;
      if (offset > (expectedSize ?? opts.maxBytes)) {
        await removeIfExists(partPath);
        offset = 0;
      }
      // A .part that is already whole (a run stopped between download and verification) needs no request.
      if (expectedSize !== undefined && offset === expectedSize && offset > 0) {
        opts.onBytes(offset, expectedSize);
        return { size: offset, resumedFrom: offset };
      }
      const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      const { response, watchdog } = await this.request(url, name, headers);
      try {
        let start = 0;
        let total: number | undefined;
        if (response.status === 206 && offset > 0) {
          const range = parseContentRange(response.headers.get('content-range'));
          if (range?.start !== offset) {
            // Not the range asked for: start over rather than splice mismatched bytes.
            await removeIfExists(partPath);
            throw new WeightsDownloadError('HTTP', `${url} answered a Range request with the wrong range`, {
              file: name,
              retryable: true,
            });
          }
          start = offset;
          total = range.total;
        } else if (response.status === 416 && offset > 0) {
          const range = parseContentRange(response.headers.get('content-range'));
          if (range?.total === offset && (expectedSize === undefined || expectedSize === offset)) {
            opts.onBytes(offset, offset);
            return { size: offset, resumedFrom: offset };
          }
          await removeIfExists(partPath);
          throw new WeightsDownloadError('HTTP', `${url} refused to resume ${name}; starting over`, {
            file: name,
            retryable: true,
          });
        } else {
          checkStatus(response, name, url);
          // 200 to a Range request: the server sends the whole file, so the .part restarts from zero.
          const length = Number(response.headers.get('content-length'));
          total =
            Number.isSafeInteger(length) && length >= 0 && !response.headers.has('content-encoding')
              ? length
              : undefined;
        }
        if (total !== undefined && expectedSize !== undefined && total !== expectedSize) {
          throw new WeightsDownloadError(
            'SIZE',
            `${url} is ${total} bytes but the manifest says ${name} holds ${expectedSize}`,
            { file: name },
          );
        }
        const limit = expectedSize ?? opts.maxBytes;
        if (total !== undefined && total > limit) {
          throw new WeightsDownloadError('SIZE', `${url} is ${total} bytes, more than the ${limit} allowed`, {
            file: name,
          });
        }
        const handle = await open(partPath, start > 0 ? 'a' : 'w');
        let size = start;
        try {
          opts.onBytes(size, total);
          for await (const chunk of watchdog.body(response)) {
            size += chunk.length;
            if (size > limit) {
              throw new WeightsDownloadError('SIZE', `${url} sent more than the ${limit} bytes allowed`, {
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
            `${url}: the connection closed after ${size} of ${want} bytes`,
            {
              file: name,
              retryable: true,
            },
          );
        }
        return { size, resumedFrom: start };
      } finally {
        watchdog.stop();
        await discard(response);
      }
    });
  }

  /** Sends a GET; the watchdog aborts it when no response or body bytes arrive within the timeout. */
  private async request(
    url: string,
    name: string,
    headers: Record<string, string>,
  ): Promise<{ response: Response; watchdog: Watchdog }> {
    const watchdog = new Watchdog(this.opts.timeoutMs, this.opts.signal);
    try {
      const response = await this.opts.fetch(url, {
        headers: {
          ...headers,
          'accept-encoding': 'identity',
          'user-agent': 'stylize-bot weights downloader',
        },
        signal: watchdog.signal,
        redirect: 'follow',
      });
      watchdog.kick();
      return { response, watchdog };
    } catch (err) {
      watchdog.stop();
      throw watchdog.translate(err, url, name);
    }
  }

  private async withRetries<T>(name: string, attempt: () => Promise<T>): Promise<T> {
    const { attempts, retryDelayMs, signal } = this.opts;
    for (let n = 1; ; n++) {
      signal?.throwIfAborted();
      try {
        return await attempt();
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const retryable = err instanceof WeightsDownloadError ? err.retryable : err instanceof TypeError;
        if (!retryable || n >= attempts) throw asNetworkError(err, name, n);
        const backoff = retryDelayMs * 2 ** (n - 1) * (0.75 + Math.random() / 2);
        const wait = Math.min(30_000, Math.max(backoff, (err as WeightsDownloadError).retryAfterMs ?? 0));
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          throw signal?.reason ?? err;
        }
      }
    }
  }
}

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

/**
 * Aborts a request when nothing arrives for `timeoutMs` (an idle timeout, so an 80 MB shard on a slow but
 * live link is not cut off), or when the caller's signal fires.
 */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  readonly signal: AbortSignal;

  constructor(
    private readonly timeoutMs: number,
    outer: AbortSignal | undefined,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
    this.kick();
  }

  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error('timeout'));
    }, this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  async *body(response: Response): AsyncGenerator<Buffer> {
    if (!response.body) return;
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        this.kick();
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    } catch (err) {
      throw this.translate(err, response.url, undefined);
    }
  }

  translate(err: unknown, url: string, name: string | undefined): unknown {
    if (!this.timedOut) return err;
    return new WeightsDownloadError('NETWORK', `${url}: nothing received for ${this.timeoutMs} ms`, {
      file: name,
      retryable: true,
      cause: err,
    });
  }
}

function checkStatus(response: Response, name: string, url: string): void {
  if (response.ok) return;
  const { status } = response;
  const retryable = status >= 500 || status === 408 || status === 429;
  const retryAfter = Number(response.headers.get('retry-after'));
  throw new WeightsDownloadError(
    'HTTP',
    `GET ${url} failed: HTTP ${status} ${response.statusText}`.trimEnd(),
    {
      file: name,
      retryable,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    },
  );
}

function asNetworkError(err: unknown, name: string, tries: number): unknown {
  if (err instanceof WeightsDownloadError) {
    if (tries <= 1 || !err.retryable) return err;
    return new WeightsDownloadError(err.code, `${err.message} (after ${tries} tries)`, {
      file: name,
      cause: err,
    });
  }
  if (err instanceof TypeError) {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? err.message;
    return new WeightsDownloadError('NETWORK', `downloading ${name} failed after ${tries} tries: ${detail}`, {
      file: name,
      cause: err,
    });
  }
  return err;
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

/** Lets go of a response body that was not (fully) read, so the connection is not held open. */
async function discard(response: Response): Promise<void> {
  if (response.body && !response.body.locked) await response.body.cancel().catch(() => {});
}
