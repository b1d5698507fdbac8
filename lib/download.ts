/**
 * Downloads from allowed hosts only: members' files from Discord's CDN and Slack's file servers, the VGG-19
 * weights and the preset paintings. Every redirect is followed by hand, one hop at a time, and its target checked
 * against the same rule before anything (a token included) is sent there; the body is capped in bytes (a larger
 * Content-Length is refused before reading, a longer body is cut off), the transfer has a deadline and an idle
 * limit, and the Content-Type must be what the caller expects: an HTML page where a file was expected (a login
 * page, a web page's URL instead of the file's), like a redirect off the allowed hosts or a 401/403, is refused
 * as the operator's problem, with its likely cause.
 *
 * On undici's `request`, which follows no redirect by itself: its redirect handling (`maxRedirections` in
 * undici 6, an interceptor in 7, which rejects the option) cannot refuse a hop before sending it. URLs may carry
 * signatures: messages name the host and path, never the query.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher, request } from 'undici';
import { MemberFacingError } from './member-error.ts';

export type DownloadErrorCode = 'host' | 'too-large' | 'timeout' | 'unavailable' | 'content-type';

export interface DownloadPolicy {
  /** Whether a URL may be requested: the first one, and every redirect's target before it is followed. */
  readonly isAllowed: (url: URL) => boolean;
  readonly maxBytes: number;
  /** {@link download}: time for the whole transfer, redirects and body included. Else the idle default. */
  readonly timeoutMs?: number;
  /** Time without receiving anything (the headers, or the body's next bytes); default `timeoutMs`. */
  readonly idleTimeoutMs?: number;
  /** Default 3. */
  readonly maxRedirects?: number;
  /**
   * Whether the file must be an image: a 2xx answer whose Content-Type is neither image/* nor
   * application/octet-stream is refused. Either way an HTML page is refused; an answer without the header passes.
   */
  readonly images?: boolean;
  /**
   * For the operator (and the member, after a general sentence): what an HTML page, a redirect off the allowed
   * hosts, or a 401/403 most likely means with this source (e.g. a login page because the token lacks a scope).
   */
  readonly hint?: string;
  /** Sent on every hop (each one is an allowed host). */
  readonly headers?: Readonly<Record<string, string>>;
  /** E.g. undici's RetryAgent over {@link downloadAgent}; default {@link downloadAgent}. */
  readonly dispatcher?: Dispatcher;
  readonly signal?: AbortSignal;
  /** How a member's sentence names the file and its source: "that attachment", "Discord". */
  readonly subject?: string;
  readonly source?: string;
}

/** A refused or failed download: the member's sentence as `message`, what happened for the operator as `detail`. */
export class DownloadError extends MemberFacingError {
  override readonly name = 'DownloadError';
  declare readonly code: DownloadErrorCode;
  /** The HTTP status that ended the download, when one did. */
  readonly status: number | undefined;
  /** The host that answered so, for logs that must not name the file's path (members' file names). */
  readonly host: string | undefined;
  constructor(
    code: DownloadErrorCode,
    message: string,
    /** Host, path and what happened; never the URL's query. */
    readonly detail: string,
    options: { operator?: boolean; status?: number | undefined; host?: string; cause?: unknown } = {},
  ) {
    // An operator's download problem (a web page, a sign-in redirect, a refusal) is told to the member as well:
    // it is the bot's, not theirs, and its likely cause is what they can pass on.
    super(code, message, {
      audience: options.operator ? 'operator' : 'member',
      cause: options.cause,
      tellMember: options.operator ?? false,
    });
    this.status = options.status;
    this.host = options.host;
  }
}

export interface OpenedDownload {
  /** Where the answer came from, after redirects. */
  readonly url: URL;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Dispatcher.ResponseData['body'];
  /** A header's (first) value. */
  header(name: string): string | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * This undici's own connection pool, the default dispatcher of every download and the one to wrap (e.g. in a
 * RetryAgent). Not undici's global dispatcher: discord.js loads undici 6 first, which registers its own Agent
 * there, and undici 7's RetryAgent over it fails ("invalid onError method").
 */
export const downloadAgent: Dispatcher = new Agent();

/** A rule allowing exactly these origins (scheme://host[:port]); URLs with credentials never pass. */
export function allowOrigins(origins: readonly string[]): (url: URL) => boolean {
  return (url) => url.username === '' && url.password === '' && origins.includes(url.origin);
}

/** `https://host/path`: a URL as messages may show it (a query can hold a signature or a token). */
const shownUrl = (url: URL) => `${url.origin}${url.pathname}`;

/**
 * GET `url` following at most `maxRedirects` redirects, each checked by `isAllowed` before it is requested.
 * Resolves with the first answer that is not a redirect, whatever its status; a 2xx answer has had its
 * Content-Type and Content-Length checked. Only the idle limit applies here (see {@link download} for the
 * deadline). Throws DownloadError, or the reason of the caller's `signal`.
 */
export async function openDownload(url: string | URL, policy: DownloadPolicy): Promise<OpenedDownload> {
  const idle = policy.idleTimeoutMs ?? policy.timeoutMs;
  const words = downloadErrors(policy);
  let target = parse(url);
  for (let hop = 0; ; hop++) {
    if (!target) throw words.unavailable('an invalid URL');
    if (!policy.isAllowed(target)) throw hop === 0 ? words.host(target) : words.redirectedAway(target);
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(target, {
        method: 'GET',
        headers: { ...policy.headers },
        ...(policy.signal ? { signal: policy.signal } : {}),
        ...(idle === undefined ? {} : { headersTimeout: idle, bodyTimeout: idle }),
        dispatcher: policy.dispatcher ?? downloadAgent,
      });
    } catch (error) {
      throw downloadFailure(error, target, policy);
    }
    const { statusCode: status, headers, body } = answer;
    const location = first(headers.location);
    if (REDIRECTS.has(status) && location !== undefined) {
      await discard(body);
      if (hop >= (policy.maxRedirects ?? 3))
        throw words.unavailable(`too many redirects at ${shownUrl(target)}`);
      target = parse(location, target);
      continue;
    }
    if (status >= 200 && status < 300) {
      try {
        checkType(first(headers['content-type']), target, policy);
        const declared = Number(first(headers['content-length']));
        if (Number.isFinite(declared) && declared > policy.maxBytes) throw words.tooLarge(target, declared);
      } catch (error) {
        await discard(body);
        throw error;
      }
    }
    return { url: target, status, headers, body, header: (name) => first(headers[name.toLowerCase()]) };
  }
}

/** The whole body of a 200 answer, at most `maxBytes`, all within `timeoutMs`. Throws DownloadError. */
export async function download(url: string | URL, policy: DownloadPolicy): Promise<Buffer> {
  const deadline = policy.timeoutMs === undefined ? undefined : AbortSignal.timeout(policy.timeoutMs);
  const signals = [policy.signal, deadline].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const words = downloadErrors(policy);
  // The deadline fired (and not the caller's signal): that is a timeout, whatever undici made of it.
  const timedOut = (error: unknown, at: URL | undefined) =>
    deadline?.aborted && !policy.signal?.aborted ? words.timeout(at, policy.timeoutMs) : error;
  let opened: OpenedDownload;
  try {
    opened = await openDownload(url, { ...policy, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw timedOut(error, parse(url));
  }
  if (opened.status !== 200) {
    await discard(opened.body);
    if (opened.status === 401 || opened.status === 403) throw words.refused(opened.url, opened.status);
    throw words.unavailable(`${shownUrl(opened.url)} answered HTTP ${opened.status}`, opened.status);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of opened.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > policy.maxBytes) throw words.tooLarge(opened.url);
      chunks.push(chunk);
    }
  } catch (error) {
    await discard(opened.body);
    throw timedOut(downloadFailure(error, opened.url, policy), opened.url);
  }
  return Buffer.concat(chunks, total);
}

/**
 * The refusals and failures of a download under `policy`, in its words for the file and its source (for checks
 * made before downloading, e.g. from a platform's metadata).
 */
export function downloadErrors(policy: DownloadPolicy) {
  const subject = policy.subject ?? 'that file';
  const Subject = subject.charAt(0).toUpperCase() + subject.slice(1);
  const megabytes = (bytes: number) => `${Number((bytes / 1024 / 1024).toPrecision(3))} MB`;
  const source = (url: URL | undefined) => policy.source ?? url?.host ?? 'the server';
  const hint = policy.hint ?? 'a login or error page, or the address of a web page rather than of the file';
  return {
    host: (url: URL | undefined) =>
      new DownloadError(
        'host',
        policy.source
          ? `${Subject} isn't hosted by ${policy.source}, so I won't download it; please upload the file itself.`
          : `${Subject} is on ${url?.host ?? 'an unknown host'}, which is not a host I download from.`,
        `${url?.host ?? 'an invalid URL'} is not an allowed host for this download`,
      ),
    redirectedAway: (url: URL) =>
      new DownloadError(
        'host',
        `${source(undefined)} redirected the download of ${subject} to ${url.host}, which is not allowed (likely ${hint}).`,
        `redirected to ${url.host}, not an allowed host: likely ${hint}`,
        { operator: true, host: url.host },
      ),
    html: (url: URL) =>
      new DownloadError(
        'content-type',
        `${source(url)} sent a web page instead of ${subject} (likely ${hint}).`,
        `${shownUrl(url)} answered with an HTML page where a file was expected: likely ${hint}`,
        { operator: true, host: url.host },
      ),
    /** 401 or 403: the source will not give the file to these credentials (the bot's, not the member's). */
    refused: (url: URL, status: number) =>
      new DownloadError(
        'unavailable',
        `${source(url)} refused to give me ${subject} (HTTP ${status}; likely ${hint}).`,
        `${shownUrl(url)} answered HTTP ${status}: likely ${hint}`,
        { operator: true, status, host: url.host },
      ),
    tooLarge: (url: URL | undefined, size?: number) =>
      new DownloadError(
        'too-large',
        `${Subject}${size === undefined ? '' : ` (${megabytes(size)})`} is over the ${megabytes(policy.maxBytes)} ` +
          'limit; please send a smaller one.',
        `${url ? shownUrl(url) : subject} is larger than the ${policy.maxBytes} bytes allowed`,
      ),
    /** With `deadlineMs`, the whole transfer took too long; without, nothing arrived for the idle limit. */
    timeout: (url: URL | undefined, deadlineMs?: number) =>
      new DownloadError(
        'timeout',
        `Downloading ${subject} from ${source(url)} took too long; please try again.`,
        `${url ? shownUrl(url) : 'the download'}: ${
          deadlineMs === undefined
            ? `nothing received for ${policy.idleTimeoutMs ?? policy.timeoutMs} ms`
            : `not done within ${deadlineMs} ms`
        }`,
      ),
    unavailable: (detail: string, status?: number, cause?: unknown) =>
      new DownloadError(
        'unavailable',
        `I couldn't download ${subject} from ${source(undefined)}; please try again.`,
        detail,
        { status, cause },
      ),
    notImage: (url: URL, type: string) =>
      new DownloadError(
        'content-type',
        `${Subject} is not an image (${source(url)} says it is ${type}).`,
        `${shownUrl(url)} is ${type}, not an image`,
      ),
  };
}

function checkType(header: string | undefined, url: URL, policy: DownloadPolicy): void {
  if (header === undefined) return;
  const type = header.split(';')[0]!.trim().toLowerCase();
  if (type === 'text/html' || type === 'application/xhtml+xml') throw downloadErrors(policy).html(url);
  if (policy.images && !type.startsWith('image/') && type !== 'application/octet-stream') {
    throw downloadErrors(policy).notImage(url, type);
  }
}

/**
 * What an error while requesting `url` or reading its body means: a DownloadError (a timeout, a failure with its
 * status or network code), or the reason of the caller's `signal`.
 */
export function downloadFailure(error: unknown, url: URL, policy: DownloadPolicy): unknown {
  if (error instanceof DownloadError) return error;
  if (policy.signal?.aborted) return policy.signal.reason;
  const code = (error as { code?: string } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return downloadErrors(policy).timeout(url);
  const status = (error as { statusCode?: number } | null)?.statusCode;
  const what =
    status === undefined ? (code ?? (error as Error | null)?.message ?? 'failed') : `HTTP ${status}`;
  return downloadErrors(policy).unavailable(`${shownUrl(url)}: ${what}`, status, error);
}

/** Lets go of a body that will not be read, so its connection is freed (errors while doing so do not matter). */
export async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  body.on('error', () => {});
  body.destroy();
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parse(url: string | URL, base?: URL): URL | undefined {
  try {
    return new URL(url, base);
  } catch {
    return undefined;
  }
}
