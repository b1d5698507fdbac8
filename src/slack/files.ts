import { request } from 'undici';
import { UserError } from '../core/index.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * Members' files (the photo, a style image, a new preset) as bytes. Slack gives a file id; files.info gives its
 * private download URL, which is fetched with the bot token, and only from Slack's file hosts (or the origin
 * of SLACK_API_URL, the local fake of the tests): the token goes nowhere else, redirects included. Downloads
 * are streamed with a byte cap and a deadline. URLs are never logged (they are signed).
 */
export interface FileLimits {
  maxBytes: number;
  timeoutMs: number;
}

export interface FetchedFile {
  id: string;
  name: string;
  bytes: Buffer;
}

const MAX_REDIRECTS = 3;

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
  if (file.mimetype && !file.mimetype.startsWith('image/')) {
    throw new UserError('invalid-input', `"${name}" is not an image.`);
  }
  if (file.size !== undefined && file.size > limits.maxBytes) throw tooLarge(name, limits.maxBytes);
  return { name, url };
}

/** files.info, then the download. Throws UserError with a message for the member. */
export async function fetchSlackFile(
  client: SlackClient,
  fileId: string,
  options: FileLimits & { token: string; extraOrigin?: string },
): Promise<FetchedFile> {
  const { name, url } = await fileDownloadUrl(client, fileId, options);
  const bytes = await downloadPrivateFile(url, name, options);
  return { id: fileId, name, bytes };
}

/** GET with the bot token, following at most a few redirects, each to an allowed host. */
export async function downloadPrivateFile(
  url: string,
  name: string,
  options: FileLimits & { token: string; extraOrigin?: string },
): Promise<Buffer> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let target = parseUrl(url);
  try {
    for (let hop = 0; ; hop++) {
      if (!target || !isAllowedFileUrl(target, options.extraOrigin)) {
        throw new UserError('invalid-input', `I can only fetch "${name}" from Slack's own file servers.`);
      }
      const response = await request(target, {
        method: 'GET',
        headers: { authorization: `Bearer ${options.token}` },
        signal,
      });
      if (response.statusCode >= 300 && response.statusCode < 400) {
        await response.body.dump();
        const location = response.headers.location;
        if (typeof location !== 'string' || hop >= MAX_REDIRECTS) throw unavailable(name);
        target = parseUrl(location, target);
        continue;
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw unavailable(name);
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        response.body.destroy();
        throw tooLarge(name, options.maxBytes);
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of response.body) {
        total += (chunk as Buffer).length;
        if (total > options.maxBytes) {
          response.body.destroy();
          throw tooLarge(name, options.maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (signal.aborted) {
      throw new UserError('invalid-input', `Fetching "${name}" from Slack took too long; try again.`);
    }
    throw unavailable(name);
  }
}

function parseUrl(url: string, base?: URL): URL | undefined {
  try {
    return new URL(url, base);
  } catch {
    return undefined;
  }
}

const unavailable = (name: string) =>
  new UserError('invalid-input', `I could not fetch "${name}" from Slack; try uploading it again.`);

const tooLarge = (name: string, maxBytes: number) =>
  new UserError(
    'invalid-input',
    `"${name}" is larger than ${Math.floor(maxBytes / (1024 * 1024))} MB; send a smaller image.`,
  );
