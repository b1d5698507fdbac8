/**
 * Members' attachments: checked from Discord's metadata first (type, size, where it is hosted), before anything
 * is downloaded; then downloaded only from Discord's CDN hosts (or the configured DISCORD_CDN_URL's origin),
 * redirects included, by the shared download helper. Attachment URLs carry signatures: they are never logged,
 * and no error made here contains one.
 */
import { checkImageType } from '../chat/file-type.ts';
import { allowOrigins, type DownloadPolicy, download, downloadErrors } from '../lib/download.ts';
import type { MemberFacingError } from '../lib/member-error.ts';
import type { AttachmentPolicy } from './config.ts';

/** What Discord tells about an attachment before it is downloaded (discord.js's Attachment has these). */
export interface AttachmentMeta {
  name: string;
  contentType: string | null;
  size: number;
  url: string;
}

function downloadPolicy(policy: AttachmentPolicy): DownloadPolicy {
  return {
    isAllowed: allowOrigins(policy.allowedOrigins),
    maxBytes: policy.maxBytes,
    timeoutMs: policy.timeoutMs,
    images: true,
    subject: 'that attachment',
    source: 'Discord',
    hint: 'an expired attachment link, or a DISCORD_CDN_URL that is not a Discord CDN',
  };
}

/** Whether a URL is on one of the allowed origins (no credentials in it). */
export function isAllowedUrl(url: string, policy: Pick<AttachmentPolicy, 'allowedOrigins'>): boolean {
  return URL.canParse(url) && allowOrigins(policy.allowedOrigins)(new URL(url));
}

/**
 * Checks an attachment from its metadata alone: an image type we read, within the size limit, hosted by
 * Discord. Returns the member's error, or undefined when it may be downloaded.
 */
export function checkAttachment(
  meta: AttachmentMeta,
  policy: AttachmentPolicy,
): MemberFacingError | undefined {
  const notImage = checkImageType(meta.contentType, meta.name);
  if (notImage) return notImage;
  const url = URL.canParse(meta.url) ? new URL(meta.url) : undefined;
  const errors = downloadErrors(downloadPolicy(policy));
  if (meta.size > policy.maxBytes) return errors.tooLarge(url, meta.size);
  if (!url || !isAllowedUrl(meta.url, policy)) return errors.host(url);
  return undefined;
}

/**
 * Downloads an attachment: only from the allowed origins (each redirect checked the same way), at most
 * `maxBytes`, within `timeoutMs`, and an image (or untyped). Throws DownloadError.
 */
export function downloadAttachment(url: string, policy: AttachmentPolicy): Promise<Buffer> {
  return download(url, downloadPolicy(policy));
}
