import { checkImageType } from '../chat/file-type.ts';
import { type DownloadPolicy, download, downloadErrors } from '../lib/download.ts';
import { UserError } from '../rules/index.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * Members' files (the photo, a style image, a new preset) as bytes. Slack gives a file id; files.info gives its
 * private download URL, which is fetched with the bot token, and only from Slack's file hosts (or the origin
 * of SLACK_API_URL, the local fake of the tests): the token goes nowhere else, redirects included. Downloads
 * are streamed with a byte cap and a deadline. Every file's metadata is checked before any is downloaded. URLs
 * are never logged.
 */
export interface FileLimits {
  maxBytes: number;
  timeoutMs: number;
}

export interface FileOptions extends FileLimits {
  token: string;
  /** SLACK_API_URL's origin, allowed as well (a local Slack stand-in serves files there). */
  extraOrigin?: string;
}

export interface FetchedFile {
  id: string;
  name: string;
  bytes: Buffer;
}

/** Slack's file hosts, over HTTPS; plus one extra origin (SLACK_API_URL's) exactly. */
export function isAllowedFileUrl(url: URL, extraOrigin?: string): boolean {
  if (url.username !== '' || url.password !== '') return false;
  if (extraOrigin !== undefined && url.origin === extraOrigin) return true;
  if (url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  return host === 'files.slack.com' || host.endsWith('.slack-edge.com');
}

/** What files.info says about a file, checked to be an image small enough to fetch. */
export async function fileDownloadUrl(
  client: SlackClient,
  fileId: string,
  limits: FileLimits,
): Promise<{ name: string; url: string }> {
  const info = await client.files.info({ file: fileId }).catch(() => undefined);
  const file = info?.file;
  const url = file?.url_private_download ?? file?.url_private;
  if (!file || !url)
    throw new UserError('not-found', 'I could not find that file in Slack; upload it again.');
  const name = file.name ?? file.title ?? 'image';
  const notImage = checkImageType(file.mimetype, name);
  if (notImage) throw notImage;
  if (file.size !== undefined && file.size > limits.maxBytes) {
    throw downloadErrors(filePolicy(name, limits)).tooLarge(undefined, file.size);
  }
  return { name, url };
}

/** files.info for every file first (so one that is not an image is refused before any download), then the downloads. */
export async function fetchSlackFiles(
  client: SlackClient,
  fileIds: readonly string[],
  options: FileOptions,
): Promise<FetchedFile[]> {
  const infos = await Promise.all(fileIds.map((id) => fileDownloadUrl(client, id, options)));
  return Promise.all(
    infos.map(async ({ name, url }, i) => ({
      id: fileIds[i]!,
      name,
      bytes: await downloadPrivateFile(url, name, options),
    })),
  );
}

/**
 * GET with the bot token, by the shared download helper: Slack's file hosts only, redirects included (the token is
 * sent to no other host), capped in bytes and time, and an image. Throws DownloadError.
 */
export function downloadPrivateFile(url: string, name: string, options: FileOptions): Promise<Buffer> {
  return download(url, filePolicy(name, options));
}

function filePolicy(name: string, options: Partial<FileOptions> & FileLimits): DownloadPolicy {
  return {
    isAllowed: (target) => isAllowedFileUrl(target, options.extraOrigin),
    maxBytes: options.maxBytes,
    timeoutMs: options.timeoutMs,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
    images: true,
    subject: `"${name}"`,
    source: 'Slack',
    // Slack answers a file request it does not authorise with its sign-in page, a redirect to it, or a 403.
    hint: 'the bot token has expired or lacks the files:read scope, or the file is not shared with the app',
  };
}
