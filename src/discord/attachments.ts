/**
 * Members' attachments: checked from Discord's metadata first (type, size, where it is hosted), before anything
 * is downloaded; then downloaded with undici only from Discord's CDN hosts (or the configured DISCORD_CDN_URL's
 * origin), redirects included, with a byte cap enforced while streaming and one deadline for the whole transfer.
 * Attachment URLs carry signatures: they are never logged, and no error made here contains one.
 */
import { request } from 'undici';
import { hasImageExtension, IMAGE_MIME_TYPES, ImageError } from '../images/index.ts';
import { MemberFacingError } from '../member-error.ts';
import type { DownloadPolicy } from './config.ts';

export type AttachmentErrorCode = 'host' | 'too-large' | 'timeout' | 'unavailable';

/** A refusal or failure with a message for the member (shown as is, ephemerally). */
export class AttachmentError extends MemberFacingError {
  override readonly name = 'AttachmentError';
  declare readonly code: AttachmentErrorCode;
  constructor(code: AttachmentErrorCode, message: string) {
    super(code, message);
  }
}

/** What Discord tells about an attachment before it is downloaded (discord.js's Attachment has these). */
export interface AttachmentMeta {
  name: string;
  contentType: string | null;
  size: number;
  url: string;
}

const HEIC = /^image\/hei[cf](-sequence)?$|\.hei[cf]$/i;
const MAX_REDIRECTS = 3;

const megabytes = (bytes: number) => `${Number((bytes / 1024 / 1024).toPrecision(3))} MB`;

export const attachmentErrors = {
  host: () =>
    new AttachmentError(
      'host',
      "That attachment isn't hosted by Discord, so I won't download it. Please upload the image itself.",
    ),
  tooLarge: (maxBytes: number, size?: number) =>
    new AttachmentError(
      'too-large',
      `${size === undefined ? 'That file' : `That file (${megabytes(size)})`} is over the ${megabytes(maxBytes)} ` +
        'limit for images; please send a smaller one.',
    ),
  timeout: () =>
    new AttachmentError(
      'timeout',
      'Downloading that attachment from Discord took too long; please try again.',
    ),
  unavailable: () =>
    new AttachmentError('unavailable', "I couldn't download that attachment from Discord; please try again."),
};

/** Whether a URL is on one of the allowed origins (no credentials in it). */
export function isAllowedUrl(url: string, policy: Pick<DownloadPolicy, 'allowedOrigins'>): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  return policy.allowedOrigins.includes(parsed.origin);
}

/**
 * Checks an attachment from its metadata alone: an image type we read, within the size limit, hosted by
 * Discord. Returns the member's error, or undefined when it may be downloaded.
 */
export function checkAttachment(
  meta: AttachmentMeta,
  policy: DownloadPolicy,
): AttachmentError | ImageError | undefined {
  const type = meta.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (HEIC.test(type) || HEIC.test(meta.name)) return ImageError.unsupported('heic');
  const looksLikeImage = type ? IMAGE_MIME_TYPES.has(type) : hasImageExtension(meta.name);
  if (!looksLikeImage) return ImageError.unsupported();
  if (meta.size > policy.maxBytes) return attachmentErrors.tooLarge(policy.maxBytes, meta.size);
  if (!isAllowedUrl(meta.url, policy)) return attachmentErrors.host();
  return undefined;
}

/**
 * Downloads an attachment: only from the allowed origins (each redirect checked the same way), at most
 * `maxBytes` (a larger Content-Length is refused at once, a longer body is cut off), within `timeoutMs`.
 * Throws AttachmentError.
 */
export async function downloadAttachment(url: string, policy: DownloadPolicy): Promise<Buffer> {
  const signal = AbortSignal.timeout(policy.timeoutMs);
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!isAllowedUrl(current, policy)) throw attachmentErrors.host();
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(current, {
        method: 'GET',
        signal,
        maxRedirections: 0,
        headersTimeout: policy.timeoutMs,
        bodyTimeout: policy.timeoutMs,
      });
    } catch (error) {
      throw failure(error, signal);
    }
    const { statusCode, headers, body } = response;
    const location = Array.isArray(headers.location) ? headers.location[0] : headers.location;
    if (statusCode >= 300 && statusCode < 400 && location) {
      discard(body);
      try {
        current = new URL(location, current).toString();
      } catch {
        throw attachmentErrors.unavailable();
      }
      continue;
    }
    if (statusCode !== 200) {
      discard(body);
      throw attachmentErrors.unavailable();
    }
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > policy.maxBytes) {
      discard(body);
      throw attachmentErrors.tooLarge(policy.maxBytes, declared);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > policy.maxBytes) {
          discard(body);
          throw attachmentErrors.tooLarge(policy.maxBytes);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      throw error instanceof AttachmentError ? error : failure(error, signal);
    }
    return Buffer.concat(chunks, total);
  }
  throw attachmentErrors.unavailable();
}

/** Drops a response body unread (destroying it emits an error that nobody else listens to). */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

function failure(error: unknown, signal: AbortSignal): AttachmentError {
  const code = (error as { code?: string } | null)?.code;
  if (signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return attachmentErrors.timeout();
  }
  return attachmentErrors.unavailable();
}
