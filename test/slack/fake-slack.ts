import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Slack's Web API, enough for the Slack adapter: the methods it calls (answered the way
 * Slack answers: HTTP 200 with `ok` true or false), files.uploadV2's three steps (files.getUploadURLExternal,
 * the upload URL it hands out, files.completeUploadExternal), the bot's messages and shared files kept by
 * channel and thread for conversations.replies and chat.getPermalink, private file downloads
 * (url_private_download, Bearer token checked), chat.delete and files.delete of what the bot posted, and
 * response_url posts. Every call is recorded with its parsed
 * arguments.
 *
 * The Web API client sends arguments form-encoded, with objects (view, blocks, files) as JSON strings; uploads
 * are multipart/form-data with the bytes in the field `body`.
 */
export interface FakeCall {
  method: string;
  args: Record<string, unknown>;
  /** Whether the call carried the bot token. */
  authorized: boolean;
  /** What the fake answered. */
  result?: Record<string, unknown>;
}

export interface FakeUpload {
  fileId: string;
  filename: string;
  length: number;
  bytes?: Buffer;
  completed: boolean;
}

export interface FakeUser {
  is_admin?: boolean;
  is_owner?: boolean;
}

/** A message the bot posted (chat.postMessage, or files shared with files.completeUploadExternal). */
export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string | undefined;
  user: string;
  bot_id: string;
  text: string;
  files?: { id: string; name: string }[];
}

const BOT_USER = 'U0BOT';
const BOT_ID = 'B0BOT';

interface MemberFile {
  id: string;
  name: string;
  mimetype: string;
  bytes: Buffer;
}

const JSON_ARGS = new Set(['view', 'blocks', 'files', 'attachments', 'file_uploads']);

export class FakeSlack {
  readonly calls: FakeCall[] = [];
  /** Calls answered with a 429 (see rateLimited): not carried out, so not in `calls`. */
  readonly limitedCalls: FakeCall[] = [];
  readonly uploads = new Map<string, FakeUpload>();
  /** Posts to response_url: the path's id and the JSON body. */
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  /** GETs of private files: which file, and whether the request carried the bot token. */
  readonly downloads: { path: string; authorized: boolean }[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly messages: FakeMessage[] = [];
  /** Methods whose next call is carried out but never answered (the connection then breaks, or the bot dies). */
  readonly unanswered = new Set<string>();
  /**
   * Methods whose next calls Slack refuses with HTTP 429 and a Retry-After (seconds) before carrying them out:
   * the Web API client waits that long and sends the call again. Each entry counts down its calls.
   */
  readonly rateLimited = new Map<string, { times: number; retryAfter: number }>();
  /** Channels the bot may not post in (chat.postMessage answers not_in_channel). */
  readonly closedChannels = new Set<string>();
  /**
   * Files Slack will not hand to the bot, by id, and how it says so: its sign-in page with HTTP 200 (what Slack
   * sends when the token lacks files:read or has expired), or an HTTP status such as 403.
   */
  readonly refusedFiles = new Map<string, 'sign-in-page' | number>();
  private readonly files = new Map<string, MemberFile>();
  private server: Server | undefined;
  private counter = 0;
  private baseUrl = '';

  constructor(
    readonly botToken: string,
    readonly teamId = 'T0TEST',
  ) {}

  /** http://127.0.0.1:PORT */
  get url(): string {
    return this.baseUrl;
  }

  /** What SLACK_API_URL would be: the Web API's base, ending in `/`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A file a member uploaded (in a form or a message): its id, as Slack would pass it. */
  addFile(name: string, bytes: Buffer, mimetype = 'image/png'): string {
    const id = `F${String(++this.counter).padStart(8, '0')}`;
    this.files.set(id, { id, name, mimetype, bytes });
    return id;
  }

  /** The file object Slack puts in a form's file_input value or a message's files. */
  fileObject(id: string): Record<string, unknown> {
    const file = this.files.get(id)!;
    return {
      id,
      name: file.name,
      title: file.name,
      mimetype: file.mimetype,
      filetype: file.name.split('.').pop(),
      size: file.bytes.length,
      url_private: `${this.baseUrl}/files-pri/${this.teamId}-${id}/${file.name}`,
      url_private_download: `${this.baseUrl}/files-pri/${this.teamId}-${id}/download/${file.name}`,
    };
  }

  /** A response_url for a command or an action. */
  responseUrl(): string {
    return `${this.baseUrl}/respond/${++this.counter}`;
  }

  /** A message's permalink, in the form Slack gives (the ts without its dot); the workspace is auth.test's url. */
  permalink(channel: string, ts: string): string {
    return `https://test.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async waitForCall(
    method: string,
    match: (call: FakeCall) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<FakeCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const call = this.calls.find((c) => c.method === method && match(c));
      if (call) return call;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${method}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async waitForResponse(
    match: (body: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.responses.find((r) => match(r.body));
      if (found) return found.body;
      if (Date.now() > deadline) throw new Error('timed out waiting for a response_url post');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private authorized(req: IncomingMessage, args?: Record<string, unknown>): boolean {
    return req.headers.authorization === `Bearer ${this.botToken}` || args?.token === this.botToken;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const body = await readBody(req);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };

    if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) {
      const authorized = this.authorized(req);
      this.downloads.push({ path: url.pathname, authorized });
      const id = /-(F\d+)\//.exec(url.pathname)?.[1];
      const file = id ? this.files.get(id) : undefined;
      if (!authorized) {
        res.writeHead(302, { location: `${this.baseUrl}/login` }).end();
        return;
      }
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      const refusal = this.refusedFiles.get(file.id);
      if (refusal === 'sign-in-page') {
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>');
        return;
      }
      if (refusal !== undefined) {
        res.writeHead(refusal, { 'content-type': 'text/plain' }).end('forbidden');
        return;
      }
      res
        .writeHead(200, { 'content-type': file.mimetype, 'content-length': file.bytes.length })
        .end(file.bytes);
      return;
    }

    if (req.method === 'POST' && url.pathname.startsWith('/upload/v1/')) {
      const upload = this.uploads.get(url.pathname.slice('/upload/v1/'.length));
      if (!upload) {
        res.writeHead(404).end();
        return;
      }
      upload.bytes = await uploadedBytes(req, body);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${upload.bytes.length}`);
      return;
    }

    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      this.responses.push({
        id: url.pathname.slice('/respond/'.length),
        body: JSON.parse(body.toString()) as Record<string, unknown>,
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }

    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice('/api/'.length);
      const args = parseArgs(req, body);
      const authorized = this.authorized(req, args);
      const limit = this.rateLimited.get(method);
      if (limit && limit.times > 0) {
        limit.times--;
        this.limitedCalls.push({ method, args, authorized: this.authorized(req, args) });
        res
          .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(limit.retryAfter) })
          .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      const call: FakeCall = { method, args, authorized };
      this.calls.push(call);
      call.result = authorized ? this.answer(method, args) : { ok: false, error: 'not_authed' };
      if (this.unanswered.delete(method)) return;
      return json(200, call.result);
    }
    res.writeHead(404).end();
  }

  private post(message: Omit<FakeMessage, 'user' | 'bot_id'>): void {
    this.messages.push({ ...message, user: BOT_USER, bot_id: BOT_ID });
  }

  private ts(): string {
    return `${Math.floor(Date.now() / 1000)}.${String(++this.counter).padStart(6, '0')}`;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://test.slack.com/',
          team: 'Test',
          user: 'stylize',
          team_id: this.teamId,
          user_id: BOT_USER,
          bot_id: BOT_ID,
        };
      case 'views.open':
      case 'views.update':
      case 'views.push': {
        const view = args.view as Record<string, unknown> | undefined;
        if (!view) return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: (args.view_id as string) ?? `V${++this.counter}`, ...view } };
      }
      case 'chat.postMessage': {
        const channel = args.channel as string;
        if (this.closedChannels.has(channel)) return { ok: false, error: 'not_in_channel' };
        const ts = this.ts();
        this.post({
          channel,
          ts,
          thread_ts: args.thread_ts as string | undefined,
          text: String(args.text ?? ''),
        });
        return { ok: true, channel, ts, message: { text: args.text, ts, thread_ts: args.thread_ts } };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.delete': {
        // The app's own messages only (every message the fake keeps is the bot's).
        const at = this.messages.findIndex((m) => m.channel === args.channel && m.ts === args.ts);
        if (at < 0) return { ok: false, error: 'message_not_found' };
        this.messages.splice(at, 1);
        return { ok: true, channel: args.channel, ts: args.ts };
      }
      case 'files.delete': {
        const id = args.file as string;
        const upload = this.uploads.get(id);
        if (!upload?.completed) return { ok: false, error: 'file_not_found' };
        this.uploads.delete(id);
        for (const message of this.messages) message.files = message.files?.filter((f) => f.id !== id);
        return { ok: true };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.ts() };
      case 'users.info': {
        const user = this.users.get(args.user as string);
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: { id: args.user, team_id: this.teamId, is_admin: !!user.is_admin, is_owner: !!user.is_owner },
        };
      }
      case 'files.info': {
        const id = args.file as string;
        return this.files.has(id)
          ? { ok: true, file: this.fileObject(id) }
          : { ok: false, error: 'file_not_found' };
      }
      case 'files.getUploadURLExternal': {
        const fileId = `F${String(++this.counter).padStart(8, '0')}`;
        const length = Number(args.length);
        if (!args.filename || !Number.isFinite(length)) return { ok: false, error: 'invalid_arguments' };
        this.uploads.set(fileId, { fileId, filename: args.filename as string, length, completed: false });
        return { ok: true, upload_url: `${this.baseUrl}/upload/v1/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal': {
        const files = (args.files ?? []) as { id: string; title?: string }[];
        for (const file of files) {
          const upload = this.uploads.get(file.id);
          if (!upload?.bytes) return { ok: false, error: 'file_not_found' };
        }
        for (const file of files) this.uploads.get(file.id)!.completed = true;
        if (typeof args.channel_id === 'string') {
          this.post({
            channel: args.channel_id,
            ts: this.ts(),
            thread_ts: args.thread_ts as string | undefined,
            text: String(args.initial_comment ?? ''),
            files: files.map((f) => ({ id: f.id, name: this.uploads.get(f.id)!.filename })),
          });
        }
        return {
          ok: true,
          files: files.map((f) => ({ id: f.id, title: f.title, name: this.uploads.get(f.id)!.filename })),
        };
      }
      case 'chat.getPermalink': {
        const { channel, message_ts } = args as { channel?: string; message_ts?: string };
        if (!this.messages.some((m) => m.channel === channel && m.ts === message_ts)) {
          return { ok: false, error: 'message_not_found' };
        }
        return { ok: true, channel, permalink: this.permalink(channel!, message_ts!) };
      }
      case 'conversations.replies': {
        const { channel, ts } = args as { channel?: string; ts?: string };
        const thread = this.messages.filter(
          (m) => m.channel === channel && (m.ts === ts || m.thread_ts === ts),
        );
        if (thread.length === 0) return { ok: false, error: 'thread_not_found' };
        return { ok: true, messages: thread, has_more: false };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseArgs(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) return JSON.parse(body.toString()) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body.toString())) {
    args[key] = JSON_ARGS.has(key) ? JSON.parse(value) : value;
  }
  return args;
}

/** The bytes of an upload: the multipart field `body` (what the Web API client sends), or the raw body. */
async function uploadedBytes(req: IncomingMessage, body: Buffer): Promise<Buffer> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) return body;
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
  const part = form.get('body') ?? form.get('file');
  if (part === null || typeof part === 'string') return Buffer.from(part ?? '');
  return Buffer.from(await part.arrayBuffer());
}
