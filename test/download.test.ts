/**
 * The allowed-hosts download helper against local HTTP servers: redirects checked hop by hop (nothing, the token
 * included, reaches a host that is not allowed), the byte cap, the deadline and the idle limit, and the
 * Content-Type check with its likely cause for the operator.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowOrigins,
  type DownloadError,
  type DownloadPolicy,
  download,
  openDownload,
} from '../lib/download.ts';
import { memberReply, OPERATOR_FAULT_TEXT } from '../lib/member-error.ts';

interface Site {
  server: Server;
  origin: string;
  hits: { path: string; auth: string | undefined }[];
}

async function site(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Site> {
  const hits: Site['hits'] = [];
  const server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', auth: req.headers.authorization });
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
let files: Site;
let elsewhere: Site;

beforeAll(async () => {
  elsewhere = await site((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
  files = await site((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const drip = (every: number, times: number) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || ++sent > times) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(Buffer.alloc(10));
      }, every);
    };
    switch (path) {
      case '/image':
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      case '/untyped':
        return void res.writeHead(200).end(png);
      case '/octets':
        return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(png);
      case '/hop1':
        return void res.writeHead(302, { location: '/hop2?sig=secret' }).end();
      case '/hop2':
        return void res.writeHead(307, { location: `${elsewhere.origin}/stolen?sig=secret` }).end();
      case '/stay':
        return void res.writeHead(301, { location: '/image' }).end();
      case '/loop':
        return void res.writeHead(302, { location: '/loop' }).end();
      case '/declared':
        return void res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000));
      case '/chunked':
        res.writeHead(200);
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(300));
        return void res.end();
      case '/exact':
        return void res.writeHead(200).end(Buffer.alloc(1000));
      case '/drip':
        return drip(40, 100); // a byte every 40 ms for 4 s: never idle, always too slow in all
      case '/stall':
        res.writeHead(200, { 'content-length': '100' });
        return void res.write(Buffer.alloc(10));
      case '/login':
        return void res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<html>sign in</html>');
      case '/text':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
      default:
        res.writeHead(404).end();
    }
  });
});

afterAll(() => {
  for (const s of [files, elsewhere]) {
    s.server.closeAllConnections();
    s.server.close();
  }
});

const policy = (extra: Partial<DownloadPolicy> = {}): DownloadPolicy => ({
  isAllowed: allowOrigins([files.origin]),
  maxBytes: 1000,
  timeoutMs: 2_000,
  headers: { authorization: 'Bearer token-for-files-only' },
  images: true,
  subject: 'that photo',
  source: 'the platform',
  ...extra,
});

const refusal = (url: string, extra?: Partial<DownloadPolicy>) =>
  download(url, policy(extra)).then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as DownloadError,
  );

describe('redirects', () => {
  it('follows redirects that stay on the allowed hosts', async () => {
    expect((await download(`${files.origin}/stay`, policy())).equals(png)).toBe(true);
  });

  it('checks every hop before requesting it: the third hop, off the hosts, is never sent anything', async () => {
    const before = files.hits.length;
    const error = await refusal(`${files.origin}/hop1`);
    expect(files.hits.slice(before).map((h) => h.path)).toEqual(['/hop1', '/hop2?sig=secret']);
    expect(files.hits.slice(before).every((h) => h.auth === 'Bearer token-for-files-only')).toBe(true);
    expect(elsewhere.hits).toEqual([]);
    // The platform sent us away: not the member's doing, so the operator reads why, and the member a general line
    // with the likely cause.
    expect(error).toMatchObject({ code: 'host', audience: 'operator' });
    expect(error.detail).toContain('127.0.0.1');
    expect(`${error.message} ${error.detail}`).not.toContain('secret');
    expect(memberReply(error).text).toMatch(/which is not allowed \(likely /);
    expect(
      memberReply(error).text.startsWith(`${OPERATOR_FAULT_TEXT} The platform redirected the download`),
    ).toBe(true);
  });

  it('refuses a first URL off the hosts as the member’s, and gives up on a redirect loop', async () => {
    const error = await refusal(`${elsewhere.origin}/x.png`);
    expect(error).toMatchObject({ code: 'host', audience: 'member' });
    expect(error.message).toMatch(/^That photo isn't hosted by the platform/);
    expect(elsewhere.hits).toEqual([]);

    const before = files.hits.length;
    expect(await refusal(`${files.origin}/loop`, { maxRedirects: 2 })).toMatchObject({ code: 'unavailable' });
    expect(files.hits.length - before).toBe(3);
  });
});

describe('byte cap', () => {
  it('refuses a larger Content-Length before reading, and cuts off a longer body', async () => {
    const declared = await refusal(`${files.origin}/declared`);
    expect(declared).toMatchObject({ code: 'too-large', audience: 'member' });
    expect(declared.message).toMatch(/That photo \(0\.00477 MB\) is over the 0\.000954 MB limit/);
    expect(await refusal(`${files.origin}/chunked`)).toMatchObject({ code: 'too-large' });
    expect((await download(`${files.origin}/exact`, policy({ images: false }))).length).toBe(1000);
  });
});

describe('time limits', () => {
  it('stops a transfer that keeps trickling at the deadline, and a stalled one at the idle limit', async () => {
    const slow = await refusal(`${files.origin}/drip`, {
      maxBytes: 1e6,
      timeoutMs: 300,
      idleTimeoutMs: 1_000,
    });
    expect(slow).toMatchObject({ code: 'timeout', audience: 'member' });
    expect(slow.message).toBe('Downloading that photo from the platform took too long; please try again.');
    expect(slow.detail).toMatch(/\/drip: not done within 300 ms$/);

    const opened = openDownload(
      `${files.origin}/stall`,
      policy({ timeoutMs: undefined, idleTimeoutMs: 150 }),
    );
    const stalled = await (await opened).body.text().then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    );
    expect(stalled?.code).toBe('UND_ERR_BODY_TIMEOUT');
    expect(
      await refusal(`${files.origin}/stall`, { timeoutMs: undefined, idleTimeoutMs: 150 }),
    ).toMatchObject({
      code: 'timeout',
      detail: expect.stringContaining('nothing received for 150 ms'),
    });
  });

  it('gives the caller’s own abort back as it is, not as a download error', async () => {
    const controller = new AbortController();
    const run = download(`${files.origin}/drip`, policy({ maxBytes: 1e6, signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('content type', () => {
  it('refuses an HTML page with its likely cause for the operator', async () => {
    const error = await refusal(`${files.origin}/login`, { hint: 'a sign-in page: the token lacks a scope' });
    expect(error).toMatchObject({ code: 'content-type', audience: 'operator' });
    expect(error.message).toBe(
      'the platform sent a web page instead of that photo (likely a sign-in page: the token lacks a scope).',
    );
    // Even where any type will do, a web page is not the file.
    expect(await refusal(`${files.origin}/login`, { images: false })).toMatchObject({ code: 'content-type' });
  });

  it('wants an image (or untyped bytes) where images are expected, anything else otherwise', async () => {
    const text = await refusal(`${files.origin}/text`);
    expect(text).toMatchObject({ code: 'content-type', audience: 'member' });
    expect(text.message).toBe('That photo is not an image (the platform says it is text/plain).');
    expect((await download(`${files.origin}/untyped`, policy())).equals(png)).toBe(true);
    expect((await download(`${files.origin}/octets`, policy())).equals(png)).toBe(true);
    expect((await download(`${files.origin}/text`, policy({ images: false }))).toString()).toBe('hello');
  });
});
