/**
 * A local server on 127.0.0.1 that plays Discord's side for an unmodified discord.js v14 client: the REST API
 * (under /api and /api/v{9,10}), the gateway WebSocket (/gateway) and a CDN for attachments (/cdn, /media).
 *
 * Connect a client with
 *
 *   new Client({ intents: [GatewayIntentBits.Guilds], rest: fake.restOptions })   // { api, cdn }
 *
 * discord.js then asks `GET /api/v10/gateway/bot` for the gateway URL (this server's ws://…/gateway) and
 * connects there with `?v=10&encoding=json` (plus `compress=zlib-stream` when zlib-sync is installed, which
 * the server honours, as it does IDENTIFY's `compress`).
 *
 * Everything that reaches the REST API or the CDN is recorded (`requests`, `waitFor`); interactions are
 * injected with `sendSlashCommand`, `sendAutocomplete` and `sendButton`; `rateLimit` and `intercept` make
 * chosen requests fail (or go unanswered), `disconnectGateway` and `holdGateway` cut the gateway and keep it
 * away. The server keeps the state Discord would (channels, threads, messages, interaction
 * responses, commands) and enforces the rules a bot trips over: a 3 s deadline for the first interaction
 * response, one response per interaction, no edits before the response, file size limits, threads only on
 * visible (non-ephemeral) messages, bot permissions for channel messages and threads.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDeflate, type Deflate, deflateSync, constants as zlibConstants } from 'node:zlib';
import {
  type APIApplicationCommand,
  type APIAttachment,
  type APIInteraction,
  type APIMessage,
  type APIRole,
  type APIUser,
  ApplicationCommandType,
  ChannelType,
  ComponentType,
  GatewayIntentBits,
  GatewayOpcodes,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
  PermissionFlagsBits,
  type RoleFlags,
} from 'discord-api-types/v10';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  buildOptions,
  type CdnBehavior,
  type FakeAttachmentInit,
  type OptionInputs,
  validateCommands,
} from './fake-discord-commands.ts';
import {
  contentTypeFor,
  DiscordHttpError,
  imageSize,
  invalidFormBody,
  methodNotAllowed,
  missingAccess,
  missingPermissions,
  notFound,
  type Params,
  type ParsedBody,
  parseBody,
  Router,
  randomToken,
  readRaw,
  snowflake,
  type UploadedFile,
  unauthorized,
  unknownChannel,
  unknownCommand,
  unknownGuild,
  unknownInteraction,
  unknownMessage,
  unknownWebhook,
} from './fake-discord-http.ts';

export type { CdnBehavior, FakeAttachmentInit, OptionInput, OptionInputs } from './fake-discord-commands.ts';
export type { UploadedFile } from './fake-discord-http.ts';

// ================================================================================================ types

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: string | null;
  bot?: boolean;
}

/** A user for tests: `fakeUser('alice')`. */
export function fakeUser(username: string, extra: Partial<FakeUser> = {}): FakeUser {
  return { id: snowflake(), username, global_name: null, discriminator: '0', avatar: null, ...extra };
}

export interface FakeGuildInit {
  id?: string;
  name?: string;
  /** Defaults to a user named "owner", added as a member. */
  owner?: FakeUser;
  locale?: string;
  /** Text channels (type 0 unless given); default one named "general". */
  channels?: { id?: string; name: string; type?: ChannelType }[];
  /** Roles besides @everyone; `members[].roles` refers to them by name or id. */
  roles?: { id?: string; name: string; permissions: bigint }[];
  /** @everyone's permissions (default: view, send, read history, attach, embed, threads, use commands). */
  everyonePermissions?: bigint;
  members?: { user: FakeUser; roles?: string[]; nick?: string | null }[];
  /** The bot's managed role (default: what the stylize bot needs; see DEFAULT_BOT_PERMISSIONS). */
  botPermissions?: bigint;
}

export interface FakeDiscordOptions {
  token?: string;
  applicationId?: string;
  botName?: string;
  /** Default: one guild with #general, roles Admin (Manage Guild) and the members alice, bob, admin, owner. */
  guilds?: FakeGuildInit[];
  /** HELLO's heartbeat_interval (Discord: 41250). */
  heartbeatIntervalMs?: number;
  /** Time to send the first interaction response (Discord: 3 s). */
  interactionDeadlineMs?: number;
  /** Lifetime of interaction tokens for edits and followups (Discord: 15 min). */
  interactionTokenTtlMs?: number;
  /** Largest file per upload (Discord without boosts: 10 MiB). */
  maxFileBytes?: number;
  /**
   * Age past which a message's edits are refused with 30046, as Discord limits the edits of messages older than
   * an hour (default: never; with an hour, `backdate` makes a message that old).
   */
  oldMessageMs?: number;
}

/** One request the server received (REST or CDN), with what it answered. */
export interface RecordedRequest {
  seq: number;
  /** Date.now() when it arrived. */
  at: number;
  method: string;
  /** The path below /api/v10 (e.g. `/channels/1/messages`), or the CDN path (`/cdn/attachments/…`). */
  path: string;
  /** `METHOD /template`, e.g. `PATCH /webhooks/:applicationId/:token/messages/:messageId`; `GET /cdn/*`. */
  route: string;
  params: Params;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** The API version from the path (10), null for unversioned and CDN paths. */
  version: number | null;
  /** The JSON body, or `payload_json` of a multipart request. */
  body: unknown;
  files: UploadedFile[];
  status: number;
  response: unknown;
}

/**
 * Matches requests: `'POST /channels/:channelId/messages'` (a route template or a concrete path, the method
 * optional), a RegExp tested on `METHOD /path`, or a predicate. Intercepts match before the request is
 * handled, so there `status` and `response` are not set yet.
 */
export type RequestMatcher = string | RegExp | ((req: RecordedRequest) => boolean);

export interface InterceptOptions {
  match: RequestMatcher;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** Wait this long first. */
  delayMs?: number;
  /** Answer with this status instead of handling the request (without it, only the delay applies). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Handle the request (a message is created, an edit made) and record it, but never answer: what a client sees
   * when Discord did the work and the connection then broke, or the client died waiting.
   */
  unanswered?: boolean;
}

export interface RateLimitOptions {
  match: RequestMatcher;
  times?: number;
  /** Seconds, as Discord's `retry_after` (may be fractional; the header carries the same value). */
  retryAfter?: number;
  global?: boolean;
  scope?: 'user' | 'global' | 'shared';
}

export interface InterceptHandle {
  /** Requests it answered so far. */
  readonly hits: number;
  readonly remaining: number;
  cancel(): void;
}

export interface GatewayEvent {
  at: number;
  direction: 'in' | 'out';
  op: number;
  t: string | null;
  s: number | null;
  d: unknown;
}

export interface InjectedInteraction {
  id: string;
  token: string;
  applicationId: string;
  type: InteractionType;
  payload: APIInteraction;
}

interface InteractionBase {
  guildId?: string;
  /** Default: the guild's first text channel. */
  channelId?: string;
  /** Default: alice (the default guild's first member). */
  user?: FakeUser;
  /** The member's permissions in the channel; default: computed from the member's roles. */
  permissions?: bigint | string;
  /** Role ids or names for the member (default: the member's roles in the guild). */
  roles?: string[];
  /** The bot's permissions (`app_permissions`); default: computed from its role. */
  appPermissions?: bigint | string;
  locale?: string;
}

export interface SlashCommandInit extends InteractionBase {
  /** The command, with sub-command group and sub-command separated by spaces: 'stylize-admin quota set'. */
  name: string;
  /** Option values by name; typed after the registered command (attachments: `{ filename, bytes }`). */
  options?: OptionInputs;
}

export interface AutocompleteInit extends SlashCommandInit {
  /** The option being typed; its value is sent as a string, as Discord does. */
  focused: string;
}

export interface ContextMenuInit extends InteractionBase {
  /** The registered command's name, e.g. 'Stylize this image'. */
  name: string;
}

export interface ButtonInit extends InteractionBase {
  customId: string;
  /** The message carrying the button (its current state is looked up). */
  message: { id: string; channel_id: string } | { id: string; channelId: string };
}

// ============================================================================================ constants

const P = PermissionFlagsBits;
const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((a, b) => a | b, 0n);

export const DEFAULT_EVERYONE_PERMISSIONS =
  P.ViewChannel |
  P.SendMessages |
  P.SendMessagesInThreads |
  P.CreatePublicThreads |
  P.ReadMessageHistory |
  P.AttachFiles |
  P.EmbedLinks |
  P.AddReactions |
  P.UseApplicationCommands;

/** What the stylize bot asks for in its invite. */
export const DEFAULT_BOT_PERMISSIONS =
  P.ViewChannel |
  P.SendMessages |
  P.SendMessagesInThreads |
  P.CreatePublicThreads |
  P.ManageThreads |
  P.ReadMessageHistory |
  P.AttachFiles |
  P.EmbedLinks;

/** Message flags a bot may set when sending: SuppressEmbeds, SuppressNotifications, IsComponentsV2. */
const KEPT_FLAGS =
  MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

const ROUTE_CALLBACK = 'POST /interactions/:interactionId/:token/callback';

// ================================================================================================ state

type Json = Record<string, unknown>;
type Channel = Json & {
  id: string;
  type: ChannelType;
  guild_id: string;
  name: string;
  parent_id: string | null;
};

interface Member {
  user: FakeUser;
  roles: string[];
  nick: string | null;
  joined_at: string;
}

interface Guild {
  id: string;
  name: string;
  ownerId: string;
  locale: string;
  joinedAt: string;
  roles: Map<string, APIRole>;
  botRoleId: string;
  channelIds: string[];
  members: Map<string, Member>;
  commands: Map<string, APIApplicationCommand>;
}

export interface InteractionState {
  id: string;
  token: string;
  type: InteractionType;
  guildId: string;
  channelId: string;
  payload: APIInteraction;
  createdAt: number;
  /** The first callback's type, null before it. */
  callbackType: InteractionResponseType | null;
  /** What the callback sent: the message data, autocomplete choices or the modal. */
  callbackData: unknown;
  /** The message `@original` refers to (the response, or the component's message after types 6/7). */
  originalMessageId: string | null;
  followupIds: string[];
}

interface CdnEntry {
  bytes: Buffer;
  contentType: string;
  behavior: CdnBehavior;
}

interface Session {
  id: string;
  seq: number;
  intents: number;
  shard: [number, number];
  connection: GatewayConnection | null;
  /** Recent dispatches, replayed on RESUME. */
  sent: { s: number; t: string; d: unknown }[];
}

interface Intercept {
  matcher: RequestMatcher;
  remaining: number;
  hits: number;
  delayMs: number;
  unanswered?: boolean;
  respond:
    | ((req: RecordedRequest) => { status: number; body: unknown; headers: Record<string, string> })
    | null;
}

interface Reply {
  status: number;
  body?: unknown;
}

interface Context {
  params: Params;
  query: URLSearchParams;
  body: ParsedBody;
  json: Json;
}

type Handler = (ctx: Context) => Reply | Promise<Reply>;

const ok = (body: unknown, status = 200): Reply => ({ status, body });
const noContent = (): Reply => ({ status: 204 });
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const bits = (value: bigint | string | undefined, fallback: bigint): string =>
  value === undefined ? fallback.toString() : BigInt(value).toString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const iso = (ms = Date.now()) => new Date(ms).toISOString();

// =========================================================================================== the server

export class FakeDiscord {
  readonly token: string;
  readonly applicationId: string;
  readonly bot: FakeUser;
  /** Users of the default guild (when `guilds` is not given): alice, bob, admin (Manage Guild), owner. */
  readonly users: Record<'alice' | 'bob' | 'admin' | 'owner', FakeUser>;

  /** Everything received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Gateway traffic in both directions. */
  readonly gatewayLog: GatewayEvent[] = [];

  private readonly options: Required<
    Omit<FakeDiscordOptions, 'guilds' | 'token' | 'applicationId' | 'botName'>
  >;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly events = new EventEmitter();
  private readonly router = new Router<{ auth: boolean; handler: Handler }>();
  private readonly intercepts: Intercept[] = [];
  /** Set while the gateway is held: the HELLOs to send when it is released. */
  private heldHellos: (() => void)[] | null = null;
  private port = 0;

  private readonly guilds = new Map<string, Guild>();
  private readonly channels = new Map<string, Channel>();
  /** Visible messages by channel. */
  private readonly messages = new Map<string, Map<string, APIMessage>>();
  /** Ephemeral interaction messages, only reachable through their interaction's webhook. */
  private readonly ephemeral = new Map<string, APIMessage>();
  private readonly globalCommands = new Map<string, APIApplicationCommand>();
  private readonly interactions = new Map<string, InteractionState>();
  private readonly cdn = new Map<string, CdnEntry>();
  private readonly sessions = new Map<string, Session>();
  private readonly connections = new Set<GatewayConnection>();
  private readonly threadMembers = new Map<string, Set<string>>();

  private constructor(options: FakeDiscordOptions) {
    this.token = options.token ?? `${Buffer.from(snowflake()).toString('base64url')}.fake.${randomToken(20)}`;
    this.applicationId = options.applicationId ?? snowflake();
    // Applications created since 2020 have a bot user with the application's id.
    this.bot = fakeUser(options.botName ?? 'Stylize', { id: this.applicationId, bot: true });
    this.options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      interactionDeadlineMs: options.interactionDeadlineMs ?? 3_000,
      interactionTokenTtlMs: options.interactionTokenTtlMs ?? 15 * 60_000,
      maxFileBytes: options.maxFileBytes ?? 10 * 1024 * 1024,
      oldMessageMs: options.oldMessageMs ?? Number.POSITIVE_INFINITY,
    };
    this.users = {
      alice: fakeUser('alice'),
      bob: fakeUser('bob'),
      admin: fakeUser('admin'),
      owner: fakeUser('owner'),
    };
    const guilds = options.guilds ?? [
      {
        name: 'Fake Guild',
        owner: this.users.owner,
        roles: [{ name: 'Admin', permissions: P.ManageGuild }],
        members: [
          { user: this.users.alice },
          { user: this.users.bob },
          { user: this.users.admin, roles: ['Admin'] },
        ],
      },
    ];
    for (const init of guilds) this.addGuild(init);
    this.events.setMaxListeners(0);
    this.server = createServer((req, res) => void this.handleHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname.replace(/\/$/, '') !== '/gateway') {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.acceptGateway(ws, url.searchParams));
    });
    this.installRoutes();
  }

  /** Starts a server on 127.0.0.1 with a random port. */
  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  /** Closes the gateway connections and the server. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------ addresses

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  /** discord.js's `rest.api` / DISCORD_API_URL: discord.js appends `/v10`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }
  get cdnUrl(): string {
    return `${this.baseUrl}/cdn`;
  }
  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }
  /** `new Client({ intents, rest: fake.restOptions })`. */
  get restOptions(): { api: string; cdn: string } {
    return { api: this.apiUrl, cdn: this.cdnUrl };
  }

  /** The first guild and its first text channel (the defaults of injected interactions). */
  get guildId(): string {
    return this.guilds.keys().next().value!;
  }
  get channelId(): string {
    return this.guildOf(this.guildId).channelIds[0]!;
  }
  /** The id of a guild's role by name. */
  roleId(name: string, guildId = this.guildId): string {
    const role = [...this.guildOf(guildId).roles.values()].find((r) => r.name === name);
    if (!role) throw new Error(`no role named ${name}`);
    return role.id;
  }

  // ------------------------------------------------------------------------------------------- recorder

  /** The sequence number of the last recorded request: pass it as `since` to wait only for later ones. */
  mark(): number {
    return this.requests.length;
  }

  find(match: RequestMatcher, since = 0): RecordedRequest | undefined {
    return this.requests.slice(since).find((r) => this.matches(match, r));
  }

  filter(match: RequestMatcher, since = 0): RecordedRequest[] {
    return this.requests.slice(since).filter((r) => this.matches(match, r));
  }

  /** The first request (already received or still to come, after `since`) that matches. */
  async waitFor(match: RequestMatcher, timeoutMs = 5_000, since = 0): Promise<RecordedRequest> {
    const [first] = await this.waitForCount(match, 1, timeoutMs, since);
    return first!;
  }

  /** The first `count` matching requests after `since`. */
  waitForCount(
    match: RequestMatcher,
    count: number,
    timeoutMs = 5_000,
    since = 0,
  ): Promise<RecordedRequest[]> {
    return this.waitUntil(
      'request',
      () => {
        const found = this.filter(match, since);
        return found.length >= count ? found.slice(0, count) : undefined;
      },
      timeoutMs,
      () => `${count} request(s) matching ${describe(match)}`,
    );
  }

  /** The interaction's first successful callback (`body.type` is the response type). */
  waitForCallback(interaction: { id: string }, timeoutMs = 5_000): Promise<RecordedRequest> {
    return this.waitFor(
      (r) => r.route === ROUTE_CALLBACK && r.params.interactionId === interaction.id && r.status < 300,
      timeoutMs,
    );
  }

  /** The first gateway event (sent or received) that matches. */
  waitForGateway(match: (event: GatewayEvent) => boolean, timeoutMs = 5_000): Promise<GatewayEvent> {
    return this.waitUntil(
      'gateway',
      () => this.gatewayLog.find(match),
      timeoutMs,
      () => 'a matching gateway event',
    );
  }

  private waitUntil<T>(
    event: string,
    check: () => T | undefined,
    timeoutMs: number,
    what: () => string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = check();
      if (done !== undefined) {
        resolve(done);
        return;
      }
      const listener = () => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        const recent = this.requests
          .slice(-12)
          .map((r) => `  #${r.seq} ${r.method} ${r.path} → ${r.status}`)
          .join('\n');
        reject(new Error(`fake-discord: timed out after ${timeoutMs} ms waiting for ${what()}\n${recent}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(event, listener);
      };
      this.events.on(event, listener);
    });
  }

  private matches(match: RequestMatcher, req: RecordedRequest): boolean {
    if (typeof match === 'function') return match(req);
    if (match instanceof RegExp) return match.test(`${req.method} ${req.path}`);
    const [method, path] = match.includes(' ') ? match.split(' ', 2) : [null, match];
    if (method && method.toUpperCase() !== req.method) return false;
    return path === req.path || `${req.method} ${path}` === req.route;
  }

  // ---------------------------------------------------------------------------------- failure injection

  /** The next `times` matching requests are delayed and/or answered with `status` instead of handled. */
  intercept(options: InterceptOptions): InterceptHandle {
    const { status } = options;
    return this.addIntercept({
      matcher: options.match,
      remaining: options.times ?? 1,
      hits: 0,
      delayMs: options.delayMs ?? 0,
      unanswered: options.unanswered ?? false,
      respond:
        status === undefined
          ? null
          : () => ({
              status,
              body: options.body ?? { message: `fake-discord: intercepted with ${status}`, code: 0 },
              headers: options.headers ?? {},
            }),
    });
  }

  /**
   * The next `times` matching requests get a 429 with Discord's headers (Retry-After, X-RateLimit-Limit,
   * -Remaining: 0, -Reset, -Reset-After, -Bucket, -Scope, and -Global for a global limit) and body
   * `{ message, retry_after, global }`; discord.js waits `retryAfter` seconds (plus its 50 ms offset) and retries.
   */
  rateLimit(options: RateLimitOptions): InterceptHandle {
    const retryAfter = options.retryAfter ?? 0.25;
    const global = options.global ?? false;
    return this.addIntercept({
      matcher: options.match,
      remaining: options.times ?? 1,
      hits: 0,
      delayMs: 0,
      respond: (req) => {
        const headers: Record<string, string> = {
          'retry-after': String(retryAfter),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': ((Date.now() + retryAfter * 1000) / 1000).toFixed(3),
          'x-ratelimit-reset-after': retryAfter.toFixed(3),
          'x-ratelimit-bucket': bucketOf(req),
          'x-ratelimit-scope': global ? 'global' : (options.scope ?? 'user'),
        };
        if (global) headers['x-ratelimit-global'] = 'true';
        return {
          status: 429,
          headers,
          body: { message: 'You are being rate limited.', retry_after: retryAfter, global },
        };
      },
    });
  }

  private addIntercept(intercept: Intercept): InterceptHandle {
    this.intercepts.push(intercept);
    return {
      get hits() {
        return intercept.hits;
      },
      get remaining() {
        return intercept.remaining;
      },
      cancel: () => {
        intercept.remaining = 0;
      },
    };
  }

  // --------------------------------------------------------------------------------------------- CDN

  /** Serves `bytes` on the fake CDN at `/cdn/<path>` and returns the URL. */
  hostFile(path: string, bytes: Uint8Array, options: CdnBehavior & { contentType?: string } = {}): string {
    const clean = path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
    this.cdn.set(`/cdn/${clean}`, {
      bytes: Buffer.from(bytes),
      contentType: options.contentType ?? contentTypeFor(clean),
      behavior: options,
    });
    return `${this.cdnUrl}/${clean}`;
  }

  /** Changes how the CDN serves a URL it hosts (an attachment's url or proxy_url, or a hosted file). */
  setCdnBehavior(url: string, behavior: CdnBehavior): void {
    const entry = this.cdn.get(new URL(url, this.baseUrl).pathname);
    if (!entry) throw new Error(`fake-discord: the CDN does not host ${url}`);
    entry.behavior = behavior;
  }

  /** The bytes the CDN holds for a URL (e.g. an attachment the bot uploaded). */
  cdnBytes(url: string): Buffer {
    const entry = this.cdn.get(new URL(url, this.baseUrl).pathname);
    if (!entry) throw new Error(`fake-discord: the CDN does not host ${url}`);
    return entry.bytes;
  }

  /** Hosts a file as a Discord attachment of `channelId` and returns its attachment object. */
  uploadAttachment(init: FakeAttachmentInit, channelId = this.channelId, ephemeral = true): APIAttachment {
    const attachment = this.storeAttachment(
      channelId,
      init.filename,
      Buffer.from(init.bytes),
      init.contentType,
      init.description,
      init.cdn,
    );
    if (init.size !== undefined) attachment.size = init.size;
    if (init.width !== undefined) attachment.width = init.width;
    if (init.height !== undefined) attachment.height = init.height;
    if (ephemeral) attachment.ephemeral = true;
    return attachment;
  }

  private storeAttachment(
    channelId: string,
    filename: string,
    bytes: Buffer,
    contentType?: string,
    description?: string,
    behavior: CdnBehavior = {},
  ): APIAttachment {
    const id = snowflake();
    const path = `attachments/${channelId}/${id}/${encodeURIComponent(filename)}`;
    const type = contentType ?? contentTypeFor(filename);
    const entry: CdnEntry = { bytes, contentType: type, behavior };
    this.cdn.set(`/cdn/${path}`, entry);
    this.cdn.set(`/media/${path}`, entry);
    // Discord's attachment URLs are signed and expire: ex (expiry), is (issued), hm (signature).
    const now = Math.floor(Date.now() / 1000);
    const signature = `?ex=${(now + 86_400).toString(16)}&is=${now.toString(16)}&hm=${randomToken(16)}&`;
    const size = type.startsWith('image/') ? imageSize(bytes) : null;
    const attachment: APIAttachment = {
      id,
      filename,
      size: bytes.length,
      url: `${this.baseUrl}/cdn/${path}${signature}`,
      proxy_url: `${this.baseUrl}/media/${path}${signature}`,
      content_type: type,
    };
    if (description !== undefined) attachment.description = description;
    if (size) {
      attachment.width = size.width;
      attachment.height = size.height;
    }
    return attachment;
  }

  // --------------------------------------------------------------------------------------- inspection

  /** A channel or thread (Discord's object). */
  channel(id: string): Channel | undefined {
    return this.channels.get(id);
  }

  /** Threads whose parent is `parentId`, oldest first. */
  threadsOf(parentId: string): Channel[] {
    return [...this.channels.values()].filter((c) => c.parent_id === parentId && isThread(c.type));
  }

  /** Makes a message `ms` older than it is (see `oldMessageMs`). */
  backdate(messageId: string, ms: number): void {
    const message = this.message(messageId);
    if (!message) throw new Error(`fake-discord: no message ${messageId}`);
    message.timestamp = iso(Date.parse(message.timestamp) - ms);
  }

  /** Visible messages of a channel or thread, oldest first. */
  channelMessages(channelId: string): APIMessage[] {
    return [...(this.messages.get(channelId)?.values() ?? [])];
  }

  /** A message by id (visible or ephemeral). */
  message(id: string): APIMessage | undefined {
    for (const messages of this.messages.values()) {
      const found = messages.get(id);
      if (found) return found;
    }
    return this.ephemeral.get(id);
  }

  /** What the server knows of an injected interaction: its response, original message and followups. */
  interaction(id: string): InteractionState {
    const state = this.interactions.get(id);
    if (!state) throw new Error(`fake-discord: no interaction ${id}`);
    return state;
  }

  /** The interaction's `@original` message, once it has one. */
  originalMessage(interaction: { id: string }): APIMessage | undefined {
    const state = this.interaction(interaction.id);
    return state.originalMessageId ? this.message(state.originalMessageId) : undefined;
  }

  followups(interaction: { id: string }): APIMessage[] {
    return this.interaction(interaction.id)
      .followupIds.map((id) => this.message(id))
      .filter((m): m is APIMessage => m !== undefined);
  }

  /** Registered commands: global, or a guild's. */
  commands(guildId?: string): APIApplicationCommand[] {
    return [...(guildId ? this.guildOf(guildId).commands : this.globalCommands).values()];
  }

  /** Members of a thread added through the API. */
  threadMemberIds(threadId: string): string[] {
    return [...(this.threadMembers.get(threadId) ?? [])];
  }

  // ------------------------------------------------------------------------------------- guild changes

  /** Replaces the bot role's permissions and tells the gateway (GUILD_ROLE_UPDATE). */
  setBotPermissions(permissions: bigint, guildId = this.guildId): void {
    const guild = this.guildOf(guildId);
    const role = guild.roles.get(guild.botRoleId)!;
    role.permissions = permissions.toString();
    this.dispatch('GUILD_ROLE_UPDATE', { guild_id: guild.id, role }, GatewayIntentBits.Guilds);
  }

  /** Adds a member (GUILD_MEMBER_ADD goes to clients with the Guild Members intent). */
  addMember(user: FakeUser, roles: string[] = [], guildId = this.guildId): void {
    const guild = this.guildOf(guildId);
    const member = {
      user,
      roles: roles.map((r) => this.resolveRole(guild, r)),
      nick: null,
      joined_at: iso(),
    };
    guild.members.set(user.id, member);
    this.dispatch(
      'GUILD_MEMBER_ADD',
      { ...this.memberJson(member), guild_id: guild.id },
      GatewayIntentBits.GuildMembers,
    );
  }

  // =================================================================================== interactions

  /** Dispatches an INTERACTION_CREATE for a slash command (type 2) and returns its id and token. */
  async sendSlashCommand(init: SlashCommandInit): Promise<InjectedInteraction> {
    return this.sendCommandInteraction(init, InteractionType.ApplicationCommand);
  }

  /** Dispatches an autocomplete interaction (type 4) with `focused` marked; answer with callback type 8. */
  async sendAutocomplete(init: AutocompleteInit): Promise<InjectedInteraction> {
    return this.sendCommandInteraction(init, InteractionType.ApplicationCommandAutocomplete, init.focused);
  }

  /** Dispatches a button press (type 3 message component) on a stored message. */
  async sendButton(init: ButtonInit): Promise<InjectedInteraction> {
    return this.sendComponent(init, { component_type: ComponentType.Button });
  }

  /** Dispatches a string select's choice (type 3 message component, `values`) on a stored message. */
  async sendSelect(init: ButtonInit & { values: string[] }): Promise<InjectedInteraction> {
    return this.sendComponent(init, { component_type: ComponentType.StringSelect, values: init.values });
  }

  private async sendComponent(init: ButtonInit, data: Json): Promise<InjectedInteraction> {
    const channelId = 'channel_id' in init.message ? init.message.channel_id : init.message.channelId;
    const message = this.message(init.message.id);
    if (!message) throw new Error(`fake-discord: no message ${init.message.id}`);
    const context = this.interactionContext({ ...init, channelId });
    const payload = {
      ...context.common,
      type: InteractionType.MessageComponent,
      message,
      data: { custom_id: init.customId, ...data },
    } as unknown as APIInteraction;
    return this.inject(payload, context.guildId, channelId);
  }

  /**
   * Dispatches a message command (Apps → `name` on a message: type 2, data.type 3), with the target message
   * in `resolved.messages` as Discord sends it, attachments included.
   */
  async sendMessageCommand(
    init: ContextMenuInit & { message: { id: string } },
  ): Promise<InjectedInteraction> {
    const target = this.message(init.message.id);
    if (!target) throw new Error(`fake-discord: no message ${init.message.id}`);
    return this.sendContextMenu(init, ApplicationCommandType.Message, target.id, {
      messages: { [target.id]: target },
    });
  }

  /** Dispatches a user command (Apps → `name` on a member: type 2, data.type 2), the member resolved. */
  async sendUserCommand(init: ContextMenuInit & { target: FakeUser }): Promise<InjectedInteraction> {
    const context = this.interactionContext(init);
    const member = this.guildOf(context.guildId).members.get(init.target.id);
    return this.sendContextMenu(init, ApplicationCommandType.User, init.target.id, {
      users: { [init.target.id]: init.target },
      ...(member
        ? { members: { [init.target.id]: { ...this.memberJson(member), user: undefined, permissions: '0' } } }
        : {}),
    });
  }

  private async sendContextMenu(
    init: ContextMenuInit,
    type: ApplicationCommandType,
    targetId: string,
    resolved: Json,
  ): Promise<InjectedInteraction> {
    const context = this.interactionContext(init);
    const command =
      [...this.guildOf(context.guildId).commands.values(), ...this.globalCommands.values()].find(
        (c) => c.name === init.name && c.type === type,
      ) ?? null;
    const data: Json = {
      id: command?.id ?? snowflake(),
      name: init.name,
      type,
      target_id: targetId,
      resolved,
    };
    if (command?.guild_id) data.guild_id = command.guild_id;
    const payload = {
      ...context.common,
      type: InteractionType.ApplicationCommand,
      data,
    } as unknown as APIInteraction;
    return this.inject(payload, context.guildId, context.channelId);
  }

  /**
   * A member's message in a channel (as if they had sent it), with these attachments on the fake CDN; Discord's
   * gateway event goes to clients with the Guild Messages intent.
   */
  postMemberMessage(init: {
    user?: FakeUser;
    channelId?: string;
    content?: string;
    attachments?: FakeAttachmentInit[];
  }): APIMessage {
    const channelId = init.channelId ?? this.channelId;
    const channel = this.channelOf(channelId);
    const message = {
      id: snowflake(),
      type: MessageType.Default,
      channel_id: channelId,
      author: init.user ?? this.users.alice,
      content: init.content ?? '',
      timestamp: iso(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: (init.attachments ?? []).map((a) => this.uploadAttachment(a, channelId, false)),
      embeds: [],
      components: [],
      pinned: false,
      flags: 0,
    } as unknown as APIMessage;
    const messages = this.messages.get(channelId) ?? new Map<string, APIMessage>();
    messages.set(message.id, message);
    this.messages.set(channelId, messages);
    channel.last_message_id = message.id;
    this.dispatch(
      'MESSAGE_CREATE',
      { ...message, guild_id: channel.guild_id },
      GatewayIntentBits.GuildMessages,
    );
    return message;
  }

  /** Gives a user an avatar: the image on the fake CDN at `/cdn/avatars/<id>/<hash>.png`, as Discord's. */
  setAvatar(user: FakeUser, bytes: Uint8Array): string {
    const hash = createHash('sha1').update(snowflake()).digest('hex').slice(0, 32);
    user.avatar = hash;
    return this.hostFile(`avatars/${user.id}/${hash}.png`, bytes, { contentType: 'image/png' });
  }

  /** Dispatches any interaction payload (id, token and application id are filled in when missing). */
  async sendInteraction(
    payload: Partial<APIInteraction> & { type: InteractionType },
  ): Promise<InjectedInteraction> {
    const full = {
      id: snowflake(),
      token: randomToken(),
      application_id: this.applicationId,
      version: 1,
      entitlements: [],
      ...payload,
    } as APIInteraction;
    return this.inject(full, full.guild_id ?? this.guildId, full.channel?.id ?? this.channelId);
  }

  private async sendCommandInteraction(
    init: SlashCommandInit,
    type: InteractionType,
    focused?: string,
  ): Promise<InjectedInteraction> {
    const context = this.interactionContext(init);
    const path = init.name.trim().split(/\s+/);
    const name = path[0]!;
    const command =
      [...this.guildOf(context.guildId).commands.values(), ...this.globalCommands.values()].find(
        (c) =>
          c.name === name &&
          (c.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput,
      ) ?? null;
    const { options, attachments } = buildOptions(
      command,
      path,
      init.options ?? {},
      (attachment) => this.uploadAttachment(attachment, context.channelId),
      focused,
    );
    const data: Json = {
      id: command?.id ?? snowflake(),
      name,
      type: ApplicationCommandType.ChatInput,
      options,
    };
    if (command?.guild_id) data.guild_id = command.guild_id;
    if (Object.keys(attachments).length) data.resolved = { attachments };
    const payload = { ...context.common, type, data } as unknown as APIInteraction;
    return this.inject(payload, context.guildId, context.channelId);
  }

  private interactionContext(init: InteractionBase): { guildId: string; channelId: string; common: Json } {
    const guildId = init.guildId ?? this.guildId;
    const guild = this.guildOf(guildId);
    const channelId = init.channelId ?? guild.channelIds[0]!;
    const channel = this.channels.get(channelId);
    if (!channel || channel.guild_id !== guildId)
      throw new Error(`fake-discord: no channel ${channelId} in ${guildId}`);
    const user = init.user ?? this.users.alice;
    const known = guild.members.get(user.id);
    const roles = init.roles?.map((r) => this.resolveRole(guild, r)) ?? known?.roles ?? [];
    const member: Member = { user, roles, nick: known?.nick ?? null, joined_at: known?.joined_at ?? iso() };
    const memberPermissions = bits(init.permissions, this.permissionsOf(guild, user.id, roles));
    const appPermissions = bits(init.appPermissions, this.permissionsOf(guild, this.bot.id));
    const common: Json = {
      id: snowflake(),
      token: randomToken(),
      application_id: this.applicationId,
      version: 1,
      guild_id: guildId,
      guild: { id: guildId, locale: guild.locale, features: [] },
      channel_id: channelId,
      channel: { ...channel, permissions: memberPermissions },
      member: { ...this.memberJson(member), permissions: memberPermissions },
      app_permissions: appPermissions,
      locale: init.locale ?? 'en-US',
      guild_locale: guild.locale,
      entitlements: [],
      authorizing_integration_owners: { '0': guildId },
      context: 0,
      attachment_size_limit: this.options.maxFileBytes,
    };
    return { guildId, channelId, common };
  }

  private async inject(
    payload: APIInteraction,
    guildId: string,
    channelId: string,
  ): Promise<InjectedInteraction> {
    await this.waitForSession();
    const state: InteractionState = {
      id: payload.id,
      token: payload.token,
      type: payload.type,
      guildId,
      channelId,
      payload,
      createdAt: Date.now(),
      callbackType: null,
      callbackData: null,
      originalMessageId: null,
      followupIds: [],
    };
    this.interactions.set(payload.id, state);
    this.dispatch('INTERACTION_CREATE', payload);
    return {
      id: payload.id,
      token: payload.token,
      applicationId: this.applicationId,
      type: payload.type,
      payload,
    };
  }

  // =========================================================================================== gateway

  /** Sends a dispatch to every ready session (with `intent` among its intents, when given). */
  dispatch(event: string, data: unknown, intent?: number): void {
    for (const session of this.sessions.values()) {
      if (intent !== undefined && (session.intents & intent) === 0) continue;
      session.seq++;
      session.sent.push({ s: session.seq, t: event, d: data });
      if (session.sent.length > 200) session.sent.shift();
      session.connection?.send({ op: GatewayOpcodes.Dispatch, t: event, s: session.seq, d: data });
    }
  }

  /** Closes every gateway connection with `code` (4000 and 1001 make discord.js resume, 4004 does not). */
  disconnectGateway(code = 4000, reason = 'fake-discord: disconnect'): void {
    for (const connection of this.connections) connection.ws.close(code, reason);
  }

  /**
   * Until `release()`, gateway connections opened from now on get no HELLO: a client that lost its connection
   * waits to resume, as while Discord's gateway is unreachable.
   */
  holdGateway(): { release(): void } {
    const held: (() => void)[] = [];
    this.heldHellos = held;
    return {
      release: () => {
        if (this.heldHellos === held) this.heldHellos = null;
        for (const hello of held.splice(0)) hello();
      },
    };
  }

  /** Whether a client has identified (or resumed) and is connected. */
  get connected(): boolean {
    return [...this.sessions.values()].some((s) => s.connection !== null);
  }

  /** Resolves once a client has identified and is connected. */
  waitForSession(timeoutMs = 5_000): Promise<void> {
    return this.waitUntil(
      'gateway',
      () => (this.connected ? true : undefined),
      timeoutMs,
      () => 'a gateway session (did the client log in?)',
    ).then(() => undefined);
  }

  private acceptGateway(ws: WebSocket, query: URLSearchParams): void {
    const connection = new GatewayConnection(ws, query.get('compress'), (direction, payload) => {
      this.gatewayLog.push({
        at: Date.now(),
        direction,
        op: payload.op,
        t: payload.t,
        s: payload.s,
        d: payload.d,
      });
      this.events.emit('gateway');
    });
    this.connections.add(connection);
    ws.on('close', () => {
      this.connections.delete(connection);
      if (connection.session?.connection === connection) connection.session.connection = null;
      this.events.emit('gateway');
    });
    const version = Number(query.get('v') ?? '10');
    if (query.get('encoding') !== null && query.get('encoding') !== 'json') {
      ws.close(4002, 'fake-discord speaks encoding=json only');
      return;
    }
    if (version !== 9 && version !== 10) {
      ws.close(4012, 'Invalid API version');
      return;
    }
    const compress = query.get('compress');
    if (compress !== null && compress !== 'zlib-stream') {
      ws.close(4002, 'fake-discord supports compress=zlib-stream only');
      return;
    }
    ws.on('message', (data, isBinary) => {
      let payload: { op: number; d: unknown };
      try {
        payload = JSON.parse(isBinary ? '' : data.toString());
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      connection.log('in', { op: payload.op, t: null, s: null, d: payload.d });
      this.onGatewayMessage(connection, payload);
    });
    const hello = () =>
      connection.send({
        op: GatewayOpcodes.Hello,
        d: {
          heartbeat_interval: this.options.heartbeatIntervalMs,
          _trace: ['["fake-discord",{"micros":0}]'],
        },
      });
    if (this.heldHellos) this.heldHellos.push(hello);
    else hello();
  }

  private onGatewayMessage(connection: GatewayConnection, payload: { op: number; d: unknown }): void {
    const d = isObject(payload.d) ? payload.d : {};
    switch (payload.op) {
      case GatewayOpcodes.Heartbeat:
        connection.send({ op: GatewayOpcodes.HeartbeatAck });
        return;
      case GatewayOpcodes.Identify: {
        if (connection.session) {
          connection.ws.close(4005, 'Already authenticated.');
          return;
        }
        if (d.token !== this.token) {
          connection.ws.close(4004, 'Authentication failed.');
          return;
        }
        if (typeof d.intents !== 'number') {
          connection.ws.close(4013, 'Invalid intent(s).');
          return;
        }
        const shard = (Array.isArray(d.shard) ? d.shard : [0, 1]) as [number, number];
        const session: Session = {
          id: randomToken(16),
          seq: 0,
          intents: d.intents,
          shard,
          connection,
          sent: [],
        };
        connection.session = session;
        connection.identifyCompress = d.compress === true;
        this.sessions.set(session.id, session);
        this.sendReady(session);
        return;
      }
      case GatewayOpcodes.Resume: {
        const session = typeof d.session_id === 'string' ? this.sessions.get(d.session_id) : undefined;
        if (!session || d.token !== this.token) {
          connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
          return;
        }
        session.connection?.ws.close(4009, 'Session superseded');
        session.connection = connection;
        connection.session = session;
        const from = typeof d.seq === 'number' ? d.seq : 0;
        for (const event of session.sent.filter((e) => e.s > from)) {
          connection.send({ op: GatewayOpcodes.Dispatch, t: event.t, s: event.s, d: event.d });
        }
        session.seq++;
        connection.send({ op: GatewayOpcodes.Dispatch, t: 'RESUMED', s: session.seq, d: {} });
        this.events.emit('gateway');
        return;
      }
      case GatewayOpcodes.RequestGuildMembers: {
        if (!connection.session) return void connection.ws.close(4003, 'Not authenticated.');
        const guild = typeof d.guild_id === 'string' ? this.guilds.get(d.guild_id) : undefined;
        if (!guild) return;
        const ids = Array.isArray(d.user_ids) ? d.user_ids.map(String) : null;
        const query = typeof d.query === 'string' ? d.query.toLowerCase() : '';
        const members = [...guild.members.values()]
          .filter((m) => (ids ? ids.includes(m.user.id) : m.user.username.toLowerCase().startsWith(query)))
          .slice(0, typeof d.limit === 'number' && d.limit > 0 ? d.limit : undefined);
        const session = connection.session;
        session.seq++;
        connection.send({
          op: GatewayOpcodes.Dispatch,
          t: 'GUILD_MEMBERS_CHUNK',
          s: session.seq,
          d: {
            guild_id: guild.id,
            members: members.map((m) => this.memberJson(m)),
            chunk_index: 0,
            chunk_count: 1,
            not_found: ids ? ids.filter((id) => !guild.members.has(id)) : [],
            nonce: d.nonce,
          },
        });
        return;
      }
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        if (!connection.session) connection.ws.close(4003, 'Not authenticated.');
        return;
      default:
        connection.ws.close(4001, 'Unknown opcode.');
    }
  }

  private sendReady(session: Session): void {
    const connection = session.connection!;
    session.seq++;
    connection.send({
      op: GatewayOpcodes.Dispatch,
      t: 'READY',
      s: session.seq,
      d: {
        v: 10,
        user: { ...this.bot, verified: true, mfa_enabled: false, flags: 0, email: null },
        user_settings: {},
        guilds: [...this.guilds.keys()].map((id) => ({ id, unavailable: true })),
        session_id: session.id,
        session_type: 'normal',
        resume_gateway_url: this.gatewayUrl,
        relationships: [],
        private_channels: [],
        presences: [],
        guild_join_requests: [],
        geo_ordered_rtc_regions: [],
        shard: session.shard,
        application: { id: this.applicationId, flags: 0 },
        _trace: ['["fake-discord",{"micros":0}]'],
      },
    });
    if (session.intents & GatewayIntentBits.Guilds) {
      for (const guild of this.guilds.values()) {
        session.seq++;
        connection.send({
          op: GatewayOpcodes.Dispatch,
          t: 'GUILD_CREATE',
          s: session.seq,
          d: this.guildCreate(guild, (session.intents & GatewayIntentBits.GuildMembers) !== 0),
        });
      }
    }
    this.events.emit('gateway');
  }

  /** GUILD_CREATE's payload; other members than the bot only with the Guild Members intent, as Discord. */
  private guildCreate(guild: Guild, withMembers: boolean): Json {
    const members = [...guild.members.values()].filter((m) => withMembers || m.user.id === this.bot.id);
    const all = [...this.channels.values()].filter((c) => c.guild_id === guild.id);
    const strip = ({ guild_id: _, ...channel }: Channel) => channel;
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      system_channel_id: guild.channelIds[0] ?? null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      application_id: null,
      max_members: 500_000,
      max_video_channel_users: 25,
      preferred_locale: guild.locale,
      features: [],
      roles: [...guild.roles.values()],
      emojis: [],
      stickers: [],
      joined_at: guild.joinedAt,
      large: false,
      unavailable: false,
      lazy: true,
      member_count: guild.members.size,
      members: members.map((m) => this.memberJson(m)),
      channels: all.filter((c) => !isThread(c.type)).map(strip),
      threads: all.filter((c) => isThread(c.type) && !(c.thread_metadata as Json).archived),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // ========================================================================================= HTTP

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      seq: 0,
      at,
      method,
      path: url.pathname,
      route: `${method} ${url.pathname}`,
      params: {},
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      version: null,
      body: null,
      files: [],
      status: 0,
      response: null,
    };
    try {
      if (url.pathname.startsWith('/cdn/') || url.pathname.startsWith('/media/')) {
        record.route = `${method} /${url.pathname.split('/')[1]}/*`;
        await this.serveCdn(url.pathname, method, res, record);
        return;
      }
      const api = /^\/api(?:\/v(\d+))?(\/.*)$/.exec(url.pathname);
      if (!api) throw notFound();
      record.version = api[1] ? Number(api[1]) : null;
      record.path = api[2]!;
      record.route = `${method} ${record.path}`;
      const body = await parseBody(
        await readRaw(req, 8 * this.options.maxFileBytes + 1_048_576),
        req.headers['content-type'],
      );
      record.body = body.json;
      record.files = body.files;
      if (record.version !== null && record.version !== 9 && record.version !== 10) {
        throw new DiscordHttpError(400, 50041, 'Invalid API version provided');
      }
      const match = this.router.match(method, record.path);
      if (match.handler === null) throw match.allowed.length ? methodNotAllowed() : notFound();
      record.route = `${method} ${match.template}`;
      record.params = match.params;

      let unanswered = false;
      for (const intercept of this.intercepts) {
        if (intercept.remaining <= 0 || !this.matches(intercept.matcher, record)) continue;
        intercept.remaining--;
        intercept.hits++;
        if (intercept.delayMs) await sleep(intercept.delayMs);
        if (intercept.respond) {
          const reply = intercept.respond(record);
          this.finish(res, record, reply.status, reply.body, reply.headers);
          return;
        }
        unanswered = intercept.unanswered ?? false;
        break;
      }

      if (match.handler.auth && req.headers.authorization !== `Bot ${this.token}`) throw unauthorized();
      const reply = await match.handler.handler({
        params: match.params,
        query: url.searchParams,
        body,
        json: isObject(body.json) ? body.json : {},
      });
      if (unanswered) {
        record.status = reply.status;
        record.response = reply.body ?? null;
        this.record(record);
        return;
      }
      this.finish(res, record, reply.status, reply.body, this.bucketHeaders(record));
    } catch (error) {
      if (error instanceof DiscordHttpError) {
        this.finish(res, record, error.status, error.body(), this.bucketHeaders(record));
      } else {
        const message = error instanceof Error ? error.stack : String(error);
        this.finish(res, record, 500, { message: `fake-discord: ${message}`, code: 0 }, {});
      }
    }
  }

  private finish(
    res: ServerResponse,
    record: RecordedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string>,
  ): void {
    record.status = status;
    record.response = body ?? null;
    this.record(record);
    if (res.headersSent) return;
    const text = status === 204 || body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      ...(text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
      via: '1.1 fake-discord',
    });
    res.end(text);
  }

  private record(record: RecordedRequest): void {
    record.seq = this.requests.length + 1;
    this.requests.push(record);
    this.events.emit('request', record);
  }

  /** The headers of a request that was not limited: a bucket with room left. */
  private bucketHeaders(record: RecordedRequest): Record<string, string> {
    return {
      'x-ratelimit-limit': '50',
      'x-ratelimit-remaining': '49',
      'x-ratelimit-reset': ((Date.now() + 1_000) / 1000).toFixed(3),
      'x-ratelimit-reset-after': '1.000',
      'x-ratelimit-bucket': bucketOf(record),
    };
  }

  private async serveCdn(
    path: string,
    method: string,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> {
    const entry = this.cdn.get(path);
    if (!entry || (method !== 'GET' && method !== 'HEAD')) {
      record.status = 404;
      this.record(record);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404: Not Found');
      return;
    }
    const { behavior } = entry;
    if (behavior.delayMs) await sleep(behavior.delayMs);
    if (behavior.status !== undefined && behavior.status >= 300) {
      record.status = behavior.status;
      this.record(record);
      res
        .writeHead(behavior.status, { 'content-type': 'text/plain' })
        .end(`fake-discord CDN: ${behavior.status}`);
      return;
    }
    record.status = 200;
    this.record(record);
    res.writeHead(200, {
      'content-type': behavior.contentType ?? entry.contentType,
      'content-length': entry.bytes.length,
      'cache-control': 'public, max-age=31536000',
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    if (behavior.stallAfterBytes !== undefined) {
      // Headers and the first bytes, then nothing: the connection stays open until the client gives up.
      res.write(entry.bytes.subarray(0, behavior.stallAfterBytes));
      return;
    }
    res.end(entry.bytes);
  }

  // ======================================================================================= REST routes

  private route(method: string, template: string, handler: Handler, auth = true): void {
    this.router.add(method, template, { auth, handler });
  }

  private installRoutes(): void {
    // Gateway discovery.
    this.route('GET', '/gateway', () => ok({ url: this.gatewayUrl }), false);
    this.route('GET', '/gateway/bot', () =>
      ok({
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
      }),
    );

    // Users and the application.
    this.route('GET', '/users/@me', () => ok({ ...this.bot, verified: true, mfa_enabled: false, flags: 0 }));
    this.route('GET', '/users/:userId', ({ params }) => {
      const user = this.findUser(params.userId!);
      if (!user) throw new DiscordHttpError(404, 10013, 'Unknown User');
      return ok(user);
    });
    const application = () =>
      ok({
        id: this.applicationId,
        name: this.bot.username,
        icon: null,
        description: '',
        summary: '',
        bot_public: true,
        bot_require_code_grant: false,
        verify_key: 'fake',
        team: null,
        flags: 0,
        bot: this.bot,
        owner: this.users.owner,
        approximate_guild_count: this.guilds.size,
      });
    this.route('GET', '/applications/@me', application);
    this.route('GET', '/oauth2/applications/@me', application);

    // Commands: global and per guild.
    const commandsOf = (params: Params) => {
      if (params.applicationId !== this.applicationId) throw missingAccess();
      if (params.guildId === undefined) return { map: this.globalCommands, guildId: undefined };
      const guild = this.guilds.get(params.guildId);
      if (!guild) throw missingAccess();
      return { map: guild.commands, guildId: guild.id };
    };
    for (const base of ['/applications/:applicationId', '/applications/:applicationId/guilds/:guildId']) {
      this.route('GET', `${base}/commands`, ({ params }) => ok([...commandsOf(params).map.values()]));
      this.route('PUT', `${base}/commands`, ({ params, body }) => {
        const { map, guildId } = commandsOf(params);
        validateCommands(body.json);
        const bodies = body.json as Json[];
        const previous = new Map([...map.values()].map((c) => [`${c.type}:${c.name}`, c]));
        map.clear();
        for (const command of bodies) {
          const stored = this.storeCommand(command, guildId, previous.get(commandKey(command))?.id);
          map.set(stored.id, stored);
        }
        return ok([...map.values()]);
      });
      this.route('POST', `${base}/commands`, ({ params, body }) => {
        const { map, guildId } = commandsOf(params);
        validateCommands(body.json, true);
        const command = body.json as Json;
        const existing = [...map.values()].find((c) => `${c.type}:${c.name}` === commandKey(command));
        const stored = this.storeCommand(command, guildId, existing?.id);
        map.set(stored.id, stored);
        return ok(stored, existing ? 200 : 201);
      });
      this.route('GET', `${base}/commands/:commandId`, ({ params }) => {
        const command = commandsOf(params).map.get(params.commandId!);
        if (!command) throw unknownCommand();
        return ok(command);
      });
      this.route('PATCH', `${base}/commands/:commandId`, ({ params, json }) => {
        const { map, guildId } = commandsOf(params);
        const command = map.get(params.commandId!);
        if (!command) throw unknownCommand();
        const merged = { ...command, ...json } as Json;
        validateCommands(merged, true);
        const stored = this.storeCommand(merged, guildId, command.id);
        map.set(stored.id, stored);
        return ok(stored);
      });
      this.route('DELETE', `${base}/commands/:commandId`, ({ params }) => {
        if (!commandsOf(params).map.delete(params.commandId!)) throw unknownCommand();
        return noContent();
      });
    }

    // Interaction responses and the interaction webhook (no bot token: discord.js sends auth: false).
    this.route(
      'POST',
      '/interactions/:interactionId/:token/callback',
      (ctx) => this.interactionCallback(ctx),
      false,
    );
    this.route('POST', '/webhooks/:applicationId/:token', (ctx) => this.followup(ctx), false);
    this.route(
      'GET',
      '/webhooks/:applicationId/:token/messages/:messageId',
      ({ params }) => {
        const { message } = this.webhookMessage(params);
        return ok(message);
      },
      false,
    );
    this.route(
      'PATCH',
      '/webhooks/:applicationId/:token/messages/:messageId',
      ({ params, json, body }) => {
        const { message } = this.webhookMessage(params);
        this.editMessage(message, json, body.files);
        return ok(message);
      },
      false,
    );
    this.route(
      'DELETE',
      '/webhooks/:applicationId/:token/messages/:messageId',
      ({ params }) => {
        const { message } = this.webhookMessage(params);
        this.deleteMessage(message);
        return noContent();
      },
      false,
    );

    // Guilds.
    this.route('GET', '/guilds/:guildId', ({ params }) => {
      const guild = this.guildOf(params.guildId!, true);
      const { members: _m, channels: _c, threads: _t, ...rest } = this.guildCreate(guild, false);
      return ok(rest);
    });
    this.route('GET', '/guilds/:guildId/channels', ({ params }) => {
      const guild = this.guildOf(params.guildId!, true);
      return ok(guild.channelIds.map((id) => this.channels.get(id)));
    });
    this.route('GET', '/guilds/:guildId/roles', ({ params }) =>
      ok([...this.guildOf(params.guildId!, true).roles.values()]),
    );
    this.route('GET', '/guilds/:guildId/members/:userId', ({ params }) => {
      const member = this.guildOf(params.guildId!, true).members.get(params.userId!);
      if (!member) throw new DiscordHttpError(404, 10007, 'Unknown Member');
      return ok(this.memberJson(member));
    });
    this.route('GET', '/guilds/:guildId/threads/active', ({ params }) => {
      this.guildOf(params.guildId!, true);
      const threads = [...this.channels.values()].filter(
        (c) => c.guild_id === params.guildId && isThread(c.type) && !(c.thread_metadata as Json).archived,
      );
      return ok({ threads, members: [] });
    });

    // Channels, messages and threads.
    this.route('GET', '/channels/:channelId', ({ params }) => ok(this.channelOf(params.channelId!)));
    this.route('PATCH', '/channels/:channelId', ({ params, json }) =>
      ok(this.editChannel(params.channelId!, json)),
    );
    this.route('DELETE', '/channels/:channelId', ({ params }) => {
      const channel = this.channelOf(params.channelId!);
      this.requirePermission(channel, isThread(channel.type) ? P.ManageThreads : P.ManageChannels);
      this.channels.delete(channel.id);
      this.messages.delete(channel.id);
      const guild = this.guildOf(channel.guild_id);
      guild.channelIds = guild.channelIds.filter((id) => id !== channel.id);
      const event = isThread(channel.type) ? 'THREAD_DELETE' : 'CHANNEL_DELETE';
      this.dispatch(
        event,
        { id: channel.id, guild_id: channel.guild_id, parent_id: channel.parent_id, type: channel.type },
        GatewayIntentBits.Guilds,
      );
      return ok(channel);
    });
    this.route('POST', '/channels/:channelId/typing', ({ params }) => {
      this.channelOf(params.channelId!);
      return noContent();
    });
    this.route('GET', '/channels/:channelId/messages', ({ params, query }) => {
      const channel = this.channelOf(params.channelId!);
      this.requirePermission(channel, P.ReadMessageHistory);
      const limit = Math.min(100, Number(query.get('limit') ?? 50));
      const list = this.channelMessages(channel.id).reverse();
      const before = query.get('before');
      const after = query.get('after');
      return ok(
        list
          .filter((m) => (before ? BigInt(m.id) < BigInt(before) : true))
          .filter((m) => (after ? BigInt(m.id) > BigInt(after) : true))
          .slice(0, limit),
      );
    });
    this.route('POST', '/channels/:channelId/messages', ({ params, json, body }) => {
      const channel = this.channelOf(params.channelId!);
      this.requirePermission(channel, isThread(channel.type) ? P.SendMessagesInThreads : P.SendMessages);
      if (body.files.length) this.requirePermission(channel, P.AttachFiles);
      if (isThread(channel.type)) {
        const metadata = channel.thread_metadata as Json;
        if (metadata.locked) throw new DiscordHttpError(400, 50083, 'Thread is archived');
        if (metadata.archived) this.editChannel(channel.id, { archived: false });
      }
      const message = this.createMessage(channel.id, json, body.files, {});
      if (isObject(json.message_reference)) message.message_reference = json.message_reference as never;
      return ok(message);
    });
    this.route('GET', '/channels/:channelId/messages/:messageId', ({ params }) => {
      const channel = this.channelOf(params.channelId!);
      this.requirePermission(channel, P.ReadMessageHistory);
      return ok(this.visibleMessage(channel.id, params.messageId!));
    });
    this.route('PATCH', '/channels/:channelId/messages/:messageId', ({ params, json, body }) => {
      const message = this.visibleMessage(this.channelOf(params.channelId!).id, params.messageId!);
      if (message.author.id !== this.bot.id) {
        throw new DiscordHttpError(403, 50005, 'Cannot edit a message authored by another user');
      }
      if (Date.now() - Date.parse(message.timestamp) > this.options.oldMessageMs) {
        throw new DiscordHttpError(
          400,
          30046,
          'Maximum number of edits to messages older than 1 hour reached. Try again later',
        );
      }
      this.editMessage(message, json, body.files);
      return ok(message);
    });
    this.route('DELETE', '/channels/:channelId/messages/:messageId', ({ params }) => {
      const channel = this.channelOf(params.channelId!);
      const message = this.visibleMessage(channel.id, params.messageId!);
      if (message.author.id !== this.bot.id) this.requirePermission(channel, P.ManageMessages);
      this.deleteMessage(message);
      return noContent();
    });
    this.route('POST', '/channels/:channelId/messages/:messageId/threads', ({ params, json }) =>
      ok(this.startThread(params.channelId!, json, params.messageId!), 201),
    );
    this.route('POST', '/channels/:channelId/threads', ({ params, json }) =>
      ok(this.startThread(params.channelId!, json), 201),
    );
    for (const method of ['PUT', 'DELETE'] as const) {
      this.route(method, '/channels/:channelId/thread-members/:userId', ({ params }) => {
        const thread = this.channelOf(params.channelId!);
        if (!isThread(thread.type))
          throw new DiscordHttpError(400, 50024, 'Cannot execute action on this channel type');
        const userId = params.userId === '@me' ? this.bot.id : params.userId!;
        if (!this.guildOf(thread.guild_id).members.has(userId))
          throw new DiscordHttpError(404, 10007, 'Unknown Member');
        const members = this.threadMembers.get(thread.id) ?? new Set<string>();
        if (method === 'PUT') members.add(userId);
        else members.delete(userId);
        this.threadMembers.set(thread.id, members);
        thread.member_count = members.size;
        return noContent();
      });
    }
    this.route('GET', '/channels/:channelId/thread-members', ({ params }) =>
      ok(
        this.threadMemberIds(this.channelOf(params.channelId!).id).map((userId) => ({
          id: params.channelId,
          user_id: userId,
          join_timestamp: iso(),
          flags: 0,
        })),
      ),
    );
  }

  // --------------------------------------------------------------------------- interaction callbacks

  private interactionCallback({ params, query, json, body }: Context): Reply {
    const state = this.interactions.get(params.interactionId!);
    if (!state || state.token !== params.token) throw unknownInteraction();
    if (Date.now() - state.createdAt > this.options.interactionDeadlineMs) throw unknownInteraction();
    if (state.callbackType !== null) {
      throw new DiscordHttpError(400, 40060, 'Interaction has already been acknowledged.');
    }
    const type = json.type as InteractionResponseType;
    const allowed: Record<number, InteractionResponseType[]> = {
      [InteractionType.ApplicationCommand]: [4, 5, 9],
      [InteractionType.MessageComponent]: [4, 5, 6, 7, 9],
      [InteractionType.ApplicationCommandAutocomplete]: [8],
      [InteractionType.ModalSubmit]: [4, 5, 6, 7],
    };
    if (!allowed[state.type]?.includes(type)) {
      throw invalidFormBody([
        {
          path: 'type',
          code: 'INTERACTION_CALLBACK_TYPE_INVALID',
          message: `Callback type ${type} is not valid here.`,
        },
      ]);
    }
    const data = isObject(json.data) ? json.data : {};
    const flags = typeof data.flags === 'number' ? data.flags : 0;
    const ephemeral = (flags & MessageFlags.Ephemeral) !== 0;
    const componentMessage = (state.payload as { message?: APIMessage }).message;
    let message: APIMessage | undefined;
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        message = this.createMessage(state.channelId, data, body.files, { interaction: state, ephemeral });
        state.originalMessageId = message.id;
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        message = this.createMessage(state.channelId, {}, [], {
          interaction: state,
          ephemeral,
          flags: MessageFlags.Loading,
        });
        state.originalMessageId = message.id;
        break;
      case InteractionResponseType.DeferredMessageUpdate:
        state.originalMessageId = componentMessage?.id ?? null;
        break;
      case InteractionResponseType.UpdateMessage: {
        state.originalMessageId = componentMessage?.id ?? null;
        message = componentMessage && this.message(componentMessage.id);
        if (!message) throw unknownMessage();
        this.editMessage(message, data, body.files);
        break;
      }
      case InteractionResponseType.ApplicationCommandAutocompleteResult: {
        const choices = Array.isArray(data.choices) ? data.choices : null;
        if (!choices || choices.length > 25) {
          throw invalidFormBody([
            { path: 'data.choices', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' },
          ]);
        }
        choices.forEach((choice: unknown, i: number) => {
          const name = isObject(choice) ? choice.name : undefined;
          if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
            throw invalidFormBody([
              {
                path: `data.choices.${i}.name`,
                code: 'BASE_TYPE_BAD_LENGTH',
                message: 'Must be between 1 and 100 in length.',
              },
            ]);
          }
        });
        break;
      }
      case InteractionResponseType.Modal:
        if (typeof data.custom_id !== 'string' || typeof data.title !== 'string') {
          throw invalidFormBody([
            { path: 'data', code: 'BASE_TYPE_REQUIRED', message: 'custom_id and title are required.' },
          ]);
        }
        break;
    }
    state.callbackType = type;
    state.callbackData = json.data ?? null;
    if (query.get('with_response') !== 'true') return noContent();
    return ok({
      interaction: {
        id: state.id,
        type: state.type,
        response_message_id: message?.id,
        response_message_loading: type === InteractionResponseType.DeferredChannelMessageWithSource,
        response_message_ephemeral: ephemeral,
      },
      resource: { type, ...(message ? { message } : {}) },
    });
  }

  /** The interaction behind a webhook token, checked as Discord does. */
  private interactionByToken(params: Params): InteractionState {
    if (params.applicationId !== this.applicationId) throw unknownWebhook();
    const state = [...this.interactions.values()].find((i) => i.token === params.token);
    if (!state) throw unknownWebhook();
    if (Date.now() - state.createdAt > this.options.interactionTokenTtlMs) {
      throw new DiscordHttpError(401, 50027, 'Invalid Webhook Token');
    }
    return state;
  }

  private webhookMessage(params: Params): { state: InteractionState; message: APIMessage } {
    const state = this.interactionByToken(params);
    const id = params.messageId === '@original' ? state.originalMessageId : params.messageId!;
    if (!id || (id !== state.originalMessageId && !state.followupIds.includes(id))) throw unknownMessage();
    const message = this.message(id);
    if (!message) throw unknownMessage();
    return { state, message };
  }

  private followup({ params, json, body }: Context): Reply {
    const state = this.interactionByToken(params);
    if (state.callbackType === null) throw unknownWebhook();
    const original = state.originalMessageId ? this.message(state.originalMessageId) : undefined;
    // After a deferred response, Discord's first followup replaces the "thinking…" message.
    if (original && ((original.flags ?? 0) & MessageFlags.Loading) !== 0) {
      this.editMessage(original, json, body.files);
      return ok(original);
    }
    const flags = typeof json.flags === 'number' ? json.flags : 0;
    const message = this.createMessage(state.channelId, json, body.files, {
      interaction: state,
      ephemeral: (flags & MessageFlags.Ephemeral) !== 0,
    });
    state.followupIds.push(message.id);
    return ok(message);
  }

  // ------------------------------------------------------------------------------------------ messages

  private createMessage(
    channelId: string,
    json: Json,
    files: UploadedFile[],
    options: { interaction?: InteractionState; ephemeral?: boolean; flags?: number },
  ): APIMessage {
    const channel = this.channelOf(channelId);
    const { interaction, ephemeral = false } = options;
    const now = Date.now();
    const message = {
      id: snowflake(now),
      type: interaction
        ? interaction.type === InteractionType.ApplicationCommand
          ? MessageType.ChatInputCommand
          : MessageType.Reply
        : MessageType.Default,
      channel_id: channel.id,
      author: this.bot,
      content: '',
      timestamp: iso(now),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      flags:
        (options.flags ?? 0) |
        (ephemeral ? MessageFlags.Ephemeral : 0) |
        ((json.flags as number) & KEPT_FLAGS),
    } as unknown as APIMessage;
    if (interaction) {
      const user = (interaction.payload.member?.user ?? interaction.payload.user) as APIUser;
      message.webhook_id = this.applicationId;
      message.application_id = this.applicationId;
      message.interaction_metadata = {
        id: interaction.id,
        type: interaction.type,
        user,
        authorizing_integration_owners: { '0': interaction.guildId },
      } as never;
      if (interaction.type === InteractionType.ApplicationCommand) {
        const name = (interaction.payload.data as { name?: string } | undefined)?.name ?? '';
        message.interaction = { id: interaction.id, type: interaction.type, name, user } as never;
      }
    }
    const loading = ((options.flags ?? 0) & MessageFlags.Loading) !== 0;
    this.applyBody(message, json, files, { creating: true, allowEmpty: loading });
    if (ephemeral) {
      this.ephemeral.set(message.id, message);
    } else {
      const messages = this.messages.get(channel.id) ?? new Map<string, APIMessage>();
      messages.set(message.id, message);
      this.messages.set(channel.id, messages);
      channel.last_message_id = message.id;
      if (isThread(channel.type)) {
        channel.message_count = Number(channel.message_count ?? 0) + 1;
        channel.total_message_sent = Number(channel.total_message_sent ?? 0) + 1;
      }
      this.dispatch(
        'MESSAGE_CREATE',
        { ...message, guild_id: channel.guild_id },
        GatewayIntentBits.GuildMessages,
      );
    }
    return message;
  }

  private editMessage(message: APIMessage, json: Json, files: UploadedFile[]): void {
    this.applyBody(message, json, files, { creating: false, allowEmpty: false });
    message.flags = (message.flags ?? 0) & ~MessageFlags.Loading;
    message.edited_timestamp = iso();
    if (!this.ephemeral.has(message.id)) {
      const channel = this.channels.get(message.channel_id);
      this.dispatch(
        'MESSAGE_UPDATE',
        { ...message, guild_id: channel?.guild_id },
        GatewayIntentBits.GuildMessages,
      );
    }
  }

  private deleteMessage(message: APIMessage): void {
    this.ephemeral.delete(message.id);
    const channel = this.channels.get(message.channel_id);
    if (this.messages.get(message.channel_id)?.delete(message.id)) {
      this.dispatch(
        'MESSAGE_DELETE',
        { id: message.id, channel_id: message.channel_id, guild_id: channel?.guild_id },
        GatewayIntentBits.GuildMessages,
      );
    }
  }

  /** Applies a create/edit body: content, embeds, components, flags, and attachments (kept and uploaded). */
  private applyBody(
    message: APIMessage,
    json: Json,
    files: UploadedFile[],
    mode: { creating: boolean; allowEmpty: boolean },
  ): void {
    const problems: { path: string; code: string; message: string }[] = [];
    if (json.content !== undefined && json.content !== null) {
      if (typeof json.content !== 'string' || json.content.length > 2000) {
        problems.push({
          path: 'content',
          code: 'BASE_TYPE_MAX_LENGTH',
          message: 'Must be 2000 or fewer in length.',
        });
      } else message.content = json.content;
    }
    if (Array.isArray(json.embeds)) {
      if (json.embeds.length > 10) {
        problems.push({
          path: 'embeds',
          code: 'BASE_TYPE_MAX_LENGTH',
          message: 'Must be 10 or fewer in length.',
        });
      } else message.embeds = json.embeds as never;
    }
    if (Array.isArray(json.components)) {
      if (json.components.length > 5 && ((json.flags as number) & 32_768) === 0) {
        problems.push({
          path: 'components',
          code: 'BASE_TYPE_MAX_LENGTH',
          message: 'Must be 5 or fewer in length.',
        });
      } else message.components = json.components as never;
    }
    for (const file of files) {
      if (file.bytes.length > this.options.maxFileBytes) {
        throw new DiscordHttpError(413, 40005, 'Request entity too large');
      }
    }
    const uploads = new Map(files.filter((f) => f.index !== null).map((f) => [String(f.index), f]));
    const used = new Set<UploadedFile>();
    const upload = (file: UploadedFile, entry?: Json): APIAttachment => {
      used.add(file);
      const filename = typeof entry?.filename === 'string' ? entry.filename : file.filename;
      const description = typeof entry?.description === 'string' ? entry.description : undefined;
      return this.storeAttachment(message.channel_id, filename, file.bytes, file.contentType, description);
    };
    if (Array.isArray(json.attachments)) {
      const kept: APIAttachment[] = [];
      json.attachments.forEach((entry: unknown, i: number) => {
        const id = isObject(entry) ? String(entry.id) : '';
        const file = uploads.get(id);
        const existing = message.attachments.find((a) => a.id === id);
        if (file) kept.push(upload(file, entry as Json));
        else if (existing) kept.push(existing);
        else
          problems.push({
            path: `attachments.${i}.id`,
            code: 'ATTACHMENT_NOT_FOUND',
            message: `Unknown attachment ${id}`,
          });
      });
      for (const file of files) if (!used.has(file)) kept.push(upload(file));
      message.attachments = kept;
    } else if (files.length) {
      message.attachments = [...message.attachments, ...files.map((f) => upload(f))];
    }
    if (message.attachments.length > 10) {
      problems.push({
        path: 'attachments',
        code: 'BASE_TYPE_MAX_LENGTH',
        message: 'Must be 10 or fewer in length.',
      });
    }
    if (problems.length) throw invalidFormBody(problems);
    const empty =
      !message.content &&
      message.embeds.length === 0 &&
      message.attachments.length === 0 &&
      (message.components?.length ?? 0) === 0 &&
      !json.sticker_ids &&
      !json.poll;
    if (empty && !mode.allowEmpty) throw new DiscordHttpError(400, 50006, 'Cannot send an empty message');
  }

  private visibleMessage(channelId: string, messageId: string): APIMessage {
    const message = this.messages.get(channelId)?.get(messageId);
    if (!message) throw unknownMessage();
    return message;
  }

  // ------------------------------------------------------------------------------------------- threads

  private startThread(parentId: string, json: Json, messageId?: string): Channel {
    const parent = this.channelOf(parentId);
    if (parent.type !== ChannelType.GuildText && parent.type !== ChannelType.GuildAnnouncement) {
      throw new DiscordHttpError(400, 50024, 'Cannot execute action on this channel type');
    }
    const name = json.name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 100) {
      throw invalidFormBody([
        { path: 'name', code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' },
      ]);
    }
    let type: ChannelType;
    let start: APIMessage | undefined;
    if (messageId !== undefined) {
      start = this.visibleMessage(parent.id, messageId);
      if (start.thread)
        throw new DiscordHttpError(400, 160004, 'A thread has already been created for this message');
      type =
        parent.type === ChannelType.GuildAnnouncement
          ? ChannelType.AnnouncementThread
          : ChannelType.PublicThread;
      this.requirePermission(parent, P.CreatePublicThreads);
    } else {
      type = (json.type as ChannelType | undefined) ?? ChannelType.PrivateThread;
      this.requirePermission(
        parent,
        type === ChannelType.PrivateThread ? P.CreatePrivateThreads : P.CreatePublicThreads,
      );
    }
    const now = Date.now();
    const autoArchive = typeof json.auto_archive_duration === 'number' ? json.auto_archive_duration : 1440;
    // A thread started from a message has the message's id.
    const id = start?.id ?? snowflake(now);
    const thread: Channel = {
      id,
      type,
      guild_id: parent.guild_id,
      parent_id: parent.id,
      owner_id: this.bot.id,
      name,
      last_message_id: null,
      message_count: 0,
      total_message_sent: 0,
      member_count: 1,
      rate_limit_per_user: typeof json.rate_limit_per_user === 'number' ? json.rate_limit_per_user : 0,
      flags: 0,
      applied_tags: [],
      thread_metadata: {
        archived: false,
        auto_archive_duration: autoArchive,
        archive_timestamp: iso(now),
        locked: false,
        create_timestamp: iso(now),
        ...(type === ChannelType.PrivateThread ? { invitable: json.invitable !== false } : {}),
      },
      member: { id, user_id: this.bot.id, join_timestamp: iso(now), flags: 0 },
    };
    this.channels.set(thread.id, thread);
    this.threadMembers.set(thread.id, new Set([this.bot.id]));
    if (start) {
      start.thread = thread as never;
      start.flags = (start.flags ?? 0) | MessageFlags.HasThread;
    }
    this.dispatch('THREAD_CREATE', { ...thread, newly_created: true }, GatewayIntentBits.Guilds);
    return thread;
  }

  private editChannel(channelId: string, json: Json): Channel {
    const channel = this.channelOf(channelId);
    const thread = isThread(channel.type);
    if (!thread) this.requirePermission(channel, P.ManageChannels);
    if (typeof json.name === 'string') channel.name = json.name;
    if (!thread && (typeof json.topic === 'string' || json.topic === null)) channel.topic = json.topic;
    if (thread) {
      const metadata = channel.thread_metadata as Json;
      if (typeof json.locked === 'boolean') {
        if (channel.owner_id !== this.bot.id) this.requirePermission(channel, P.ManageThreads);
        metadata.locked = json.locked;
      }
      if (typeof json.archived === 'boolean') {
        metadata.archived = json.archived;
        metadata.archive_timestamp = iso();
      }
      if (typeof json.auto_archive_duration === 'number')
        metadata.auto_archive_duration = json.auto_archive_duration;
    }
    this.dispatch(thread ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', channel, GatewayIntentBits.Guilds);
    return channel;
  }

  // ---------------------------------------------------------------------------------- guilds and roles

  private addGuild(init: FakeGuildInit): void {
    const id = init.id ?? snowflake();
    const owner = init.owner ?? fakeUser('owner');
    const roles = new Map<string, APIRole>();
    const role = (
      roleId: string,
      name: string,
      permissions: bigint,
      position: number,
      botId?: string,
    ): APIRole => ({
      id: roleId,
      name,
      color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
      hoist: false,
      icon: null,
      unicode_emoji: null,
      position,
      permissions: permissions.toString(),
      managed: botId !== undefined,
      mentionable: false,
      flags: 0 as RoleFlags,
      ...(botId ? { tags: { bot_id: botId } } : {}),
    });
    roles.set(id, role(id, '@everyone', init.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS, 0));
    const botRoleId = snowflake();
    roles.set(
      botRoleId,
      role(botRoleId, this.bot.username, init.botPermissions ?? DEFAULT_BOT_PERMISSIONS, 1, this.bot.id),
    );
    (init.roles ?? []).forEach((r, i) => {
      const roleId = r.id ?? snowflake();
      roles.set(roleId, role(roleId, r.name, r.permissions, i + 2));
    });
    const now = iso();
    const guild: Guild = {
      id,
      name: init.name ?? 'Fake Guild',
      ownerId: owner.id,
      locale: init.locale ?? 'en-US',
      joinedAt: now,
      roles,
      botRoleId,
      channelIds: [],
      members: new Map(),
      commands: new Map(),
    };
    this.guilds.set(id, guild);
    guild.members.set(this.bot.id, { user: this.bot, roles: [botRoleId], nick: null, joined_at: now });
    guild.members.set(owner.id, { user: owner, roles: [], nick: null, joined_at: now });
    for (const member of init.members ?? []) {
      guild.members.set(member.user.id, {
        user: member.user,
        roles: (member.roles ?? []).map((r) => this.resolveRole(guild, r)),
        nick: member.nick ?? null,
        joined_at: now,
      });
    }
    (init.channels ?? [{ name: 'general' }]).forEach((c, position) => {
      const channel: Channel = {
        id: c.id ?? snowflake(),
        type: c.type ?? ChannelType.GuildText,
        guild_id: id,
        name: c.name,
        position,
        permission_overwrites: [],
        topic: null,
        nsfw: false,
        last_message_id: null,
        rate_limit_per_user: 0,
        parent_id: null,
        default_auto_archive_duration: 1440,
        flags: 0,
      };
      this.channels.set(channel.id, channel);
      guild.channelIds.push(channel.id);
    });
  }

  private resolveRole(guild: Guild, nameOrId: string): string {
    if (guild.roles.has(nameOrId)) return nameOrId;
    const role = [...guild.roles.values()].find((r) => r.name === nameOrId);
    if (!role) throw new Error(`fake-discord: no role ${nameOrId} in guild ${guild.id}`);
    return role.id;
  }

  /** Guild-level permissions (channel overwrites are not modelled). */
  private permissionsOf(guild: Guild, userId: string, roles?: string[]): bigint {
    if (userId === guild.ownerId) return ALL_PERMISSIONS;
    const roleIds = roles ?? guild.members.get(userId)?.roles ?? [];
    let permissions = BigInt(guild.roles.get(guild.id)!.permissions);
    for (const roleId of roleIds) permissions |= BigInt(guild.roles.get(roleId)?.permissions ?? '0');
    return permissions & P.Administrator ? ALL_PERMISSIONS : permissions;
  }

  private requirePermission(channel: Channel, permission: bigint): void {
    const permissions = this.permissionsOf(this.guildOf(channel.guild_id), this.bot.id);
    if ((permissions & (permission | P.ViewChannel)) !== (permission | P.ViewChannel))
      throw missingPermissions();
  }

  private memberJson(member: Member): Json {
    return {
      user: member.user,
      nick: member.nick,
      avatar: null,
      banner: null,
      roles: member.roles,
      joined_at: member.joined_at,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    };
  }

  private guildOf(id: string, rest = false): Guild {
    const guild = this.guilds.get(id);
    if (!guild) {
      if (rest) throw unknownGuild();
      throw new Error(`fake-discord: no guild ${id}`);
    }
    return guild;
  }

  private channelOf(id: string): Channel {
    const channel = this.channels.get(id);
    if (!channel) throw unknownChannel();
    return channel;
  }

  private findUser(id: string): FakeUser | undefined {
    if (id === '@me' || id === this.bot.id) return this.bot;
    for (const guild of this.guilds.values()) {
      const member = guild.members.get(id);
      if (member) return member.user;
    }
    return undefined;
  }

  private storeCommand(body: Json, guildId: string | undefined, id?: string): APIApplicationCommand {
    const command = {
      id: id ?? snowflake(),
      application_id: this.applicationId,
      version: snowflake(),
      type: ApplicationCommandType.ChatInput,
      name_localizations: null,
      description_localizations: null,
      default_member_permissions: null,
      nsfw: false,
      ...body,
      ...(guildId ? { guild_id: guildId } : {}),
    } as unknown as APIApplicationCommand;
    if (!command.contexts && !guildId) command.contexts = [0, 1, 2];
    if (!command.integration_types && !guildId) command.integration_types = [0];
    return command;
  }
}

// ============================================================================================ gateway

class GatewayConnection {
  session: Session | null = null;
  identifyCompress = false;
  private readonly deflate: Deflate | null;
  private pending: Buffer[] = [];

  constructor(
    readonly ws: WebSocket,
    compress: string | null,
    readonly log: (
      direction: 'in' | 'out',
      payload: { op: number; t: string | null; s: number | null; d: unknown },
    ) => void,
  ) {
    // zlib-stream: one zlib context for the connection, each message flushed with Z_SYNC_FLUSH.
    this.deflate = compress === 'zlib-stream' ? createDeflate() : null;
    this.deflate?.on('data', (chunk: Buffer) => this.pending.push(chunk));
  }

  send(payload: { op: number; t?: string; s?: number; d?: unknown }): void {
    const full = { op: payload.op, t: payload.t ?? null, s: payload.s ?? null, d: payload.d ?? null };
    this.log('out', full);
    if (this.ws.readyState !== this.ws.OPEN) return;
    const text = JSON.stringify(full);
    if (this.deflate) {
      this.deflate.write(text);
      this.deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        const data = Buffer.concat(this.pending);
        this.pending = [];
        if (this.ws.readyState === this.ws.OPEN) this.ws.send(data, { binary: true });
      });
    } else if (this.identifyCompress) {
      this.ws.send(deflateSync(text), { binary: true });
    } else {
      this.ws.send(text);
    }
  }
}

// ============================================================================================ helpers

function isThread(type: ChannelType): boolean {
  return (
    type === ChannelType.PublicThread ||
    type === ChannelType.PrivateThread ||
    type === ChannelType.AnnouncementThread
  );
}

function commandKey(body: Json): string {
  return `${(body.type as number | undefined) ?? ApplicationCommandType.ChatInput}:${String(body.name)}`;
}

/** A stable bucket hash per route template and major parameter, as Discord's X-RateLimit-Bucket. */
function bucketOf(req: RecordedRequest): string {
  const major =
    req.params.channelId ?? req.params.guildId ?? req.params.applicationId ?? req.params.interactionId ?? '';
  return createHash('sha1').update(`${req.route}:${major}`).digest('hex').slice(0, 32);
}

function describe(match: RequestMatcher): string {
  return typeof match === 'function' ? 'a predicate' : String(match);
}
