/**
 * Plumbing for the fake Discord server (test/discord/fake-discord.ts): snowflakes, Discord-shaped errors,
 * a small router over Discord's route templates, request body parsing (JSON and multipart/form-data through
 * undici's `Response.formData()`), and image size sniffing for attachment metadata.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// ---------------------------------------------------------------------------------------------- snowflakes

const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A snowflake in Discord's layout (timestamp in the high bits), so discord.js's `createdTimestamp` is right. */
export function snowflake(at: number = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

/** An opaque token like Discord's interaction tokens. */
export const randomToken = (bytes = 48): string => randomBytes(bytes).toString('base64url');

// -------------------------------------------------------------------------------------------------- errors

/** An error answered the way Discord answers errors: `{ code, message, errors? }` with an HTTP status. */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: unknown,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return this.errors === undefined
      ? { message: this.message, code: this.code }
      : { message: this.message, code: this.code, errors: this.errors };
  }
}

export const unknownChannel = () => new DiscordHttpError(404, 10003, 'Unknown Channel');
export const unknownMessage = () => new DiscordHttpError(404, 10008, 'Unknown Message');
export const unknownWebhook = () => new DiscordHttpError(404, 10015, 'Unknown Webhook');
export const unknownInteraction = () => new DiscordHttpError(404, 10062, 'Unknown interaction');
export const unknownGuild = () => new DiscordHttpError(404, 10004, 'Unknown Guild');
export const unknownCommand = () => new DiscordHttpError(404, 10063, 'Unknown application command');
export const unauthorized = () => new DiscordHttpError(401, 0, '401: Unauthorized');
export const missingAccess = () => new DiscordHttpError(403, 50001, 'Missing Access');
export const missingPermissions = () => new DiscordHttpError(403, 50013, 'Missing Permissions');
export const notFound = () => new DiscordHttpError(404, 0, '404: Not Found');
export const methodNotAllowed = () => new DiscordHttpError(405, 0, '405: Method Not Allowed');

/** Discord's 50035 "Invalid Form Body", with its nested `errors` object built from dotted paths. */
export function invalidFormBody(
  problems: { path: string; code: string; message: string }[],
): DiscordHttpError {
  const errors: Record<string, unknown> = {};
  for (const problem of problems) {
    let node = errors;
    for (const key of problem.path.split('.')) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    const list = (node._errors as unknown[] | undefined) ?? [];
    list.push({ code: problem.code, message: problem.message });
    node._errors = list;
  }
  return new DiscordHttpError(400, 50035, 'Invalid Form Body', errors);
}

// -------------------------------------------------------------------------------------------------- router

export type Params = Record<string, string>;

interface RouteEntry<H> {
  method: string;
  template: string;
  segments: string[];
  handler: H;
}

/**
 * Matches `METHOD /path` against templates such as `/webhooks/:applicationId/:token/messages/:messageId`.
 * Literal segments win over parameters (`/users/@me` before `/users/:userId`) because routes are tried in
 * the order they were added and the literal ones are added first.
 */
export class Router<H> {
  private readonly routes: RouteEntry<H>[] = [];

  add(method: string, template: string, handler: H): this {
    this.routes.push({ method, template, segments: template.split('/').filter(Boolean), handler });
    return this;
  }

  /** The route for a path; `allowed` lists the methods of a path that matched with another method. */
  match(
    method: string,
    path: string,
  ): { handler: H; template: string; params: Params } | { handler: null; allowed: string[] } {
    const parts = path.split('/').filter(Boolean).map(safeDecode);
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      return { handler: route.handler, template: route.template, params };
    }
    return { handler: null, allowed };
  }
}

function matchSegments(segments: string[], parts: string[]): Params | null {
  if (segments.length !== parts.length) return null;
  const params: Params = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const part = parts[i]!;
    if (segment.startsWith(':')) params[segment.slice(1)] = part;
    else if (segment !== part) return null;
  }
  return params;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

// ---------------------------------------------------------------------------------------------- bodies

/** A file uploaded in a multipart request (`files[n]`). */
export interface UploadedFile {
  /** The form field, e.g. `files[0]`. */
  field: string;
  /** n in `files[n]`, matching `attachments[].id` in the payload; null for other field names. */
  index: number | null;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface ParsedBody {
  /** The JSON body, or the multipart request's `payload_json`; null without either. */
  json: unknown;
  files: UploadedFile[];
  /** The raw bytes as received. */
  raw: Buffer;
  contentType: string | null;
}

export async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new DiscordHttpError(413, 40005, 'Request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses what discord.js sends: `application/json`, or `multipart/form-data` with `payload_json` and files. */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  const type = contentType ?? null;
  if (raw.length === 0) return { json: null, files: [], raw, contentType: type };
  if (type?.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
    } catch (error) {
      throw new DiscordHttpError(400, 50109, `The request body contains invalid multipart data: ${error}`);
    }
    let json: unknown = null;
    const files: UploadedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = parseJson(value);
        continue;
      }
      const index = /^files\[(\d+)\]$/.exec(field)?.[1];
      files.push({
        field,
        index: index === undefined ? null : Number(index),
        filename: value.name,
        contentType: value.type || 'application/octet-stream',
        bytes: Buffer.from(await value.arrayBuffer()),
      });
    }
    return { json, files, raw, contentType: type };
  }
  return { json: parseJson(raw.toString('utf8')), files: [], raw, contentType: type };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DiscordHttpError(400, 50109, 'The request body contains invalid JSON.');
  }
}

// ------------------------------------------------------------------------------------------- image sizes

/** Width and height of a PNG, JPEG, GIF or WebP, as Discord reports them for image attachments. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('ascii', 12, 16) === 'IHDR') {
    return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b.length >= 10 && b.toString('ascii', 0, 3) === 'GIF') {
    return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  }
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') {
    const chunk = b.toString('ascii', 12, 16);
    if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    if (chunk === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let offset = 2;
    while (offset + 9 < b.length) {
      if (b[offset] !== 0xff) return null;
      const marker = b[offset + 1]!;
      const length = b.readUInt16BE(offset + 2);
      const isFrame =
        marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isFrame) return { width: b.readUInt16BE(offset + 7), height: b.readUInt16BE(offset + 5) };
      offset += 2 + length;
    }
  }
  return null;
}

/** A content type from a file name, for uploads that came without one. */
export function contentTypeFor(filename: string): string {
  const ext = filename.toLowerCase().split('.').pop();
  switch (ext) {
    case 'png':
      return 'image/png';
    case 'jpg':
    case 'jpeg':
      return 'image/jpeg';
    case 'gif':
      return 'image/gif';
    case 'webp':
      return 'image/webp';
    case 'txt':
      return 'text/plain; charset=utf-8';
    case 'json':
      return 'application/json';
    default:
      return 'application/octet-stream';
  }
}
