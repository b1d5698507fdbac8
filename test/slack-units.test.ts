import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackRefs } from '../chat/refs.ts';
import { createLogger } from '../lib/log.ts';
import { INTERNAL_FAULT_TEXT, MemberFacingError, OPERATOR_FAULT_TEXT } from '../lib/member-error.ts';
import { type JobProgress, type JobView, type PresetInfo, QuotaError, UserError } from '../rules/index.ts';
import { adminCheck } from '../slack/admin-check.ts';
import { createSlackApp } from '../slack/app.ts';
import { parseSlackConfig, type SlackConfig } from '../slack/config.ts';
import { createSlackEvents } from '../slack/events.ts';
import { downloadPrivateFile, isAllowedFileUrl } from '../slack/files.ts';
import { LIMIT_KEYS, parseAdminCommand } from '../slack/listeners/admin-subcommands.ts';
import { historyText } from '../slack/listeners/history.ts';
import {
  MAX_SELECT_OPTIONS,
  parseStylizeSubmission,
  presetOptions,
  type StylizeFormChoices,
  stylizeModal,
} from '../slack/modal.ts';
import {
  completedMessage,
  errorText,
  formatDuration,
  localTime,
  progressBar,
  progressMessage,
  variationOfAction,
} from '../slack/render.ts';
import type { SlackClient } from '../slack/slack-types.ts';
import { jobView } from './job-views.ts';
import { type FormBlock, formState } from './slack/requests.ts';

const log = createLogger({ logLevel: 'silent' }, 'test');

describe('parseSlackConfig', () => {
  it('is off without a bot token, and needs a signing secret or an app token with it', () => {
    expect(parseSlackConfig({})).toBeUndefined();
    expect(() => parseSlackConfig({ SLACK_SIGNING_SECRET: 's' })).toThrow(/SLACK_BOT_TOKEN/);
    expect(() => parseSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => parseSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-2' })).toThrow(/xapp-/);
    expect(() =>
      parseSlackConfig({ SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's', SLACK_PORT: 'http' }),
    ).toThrow(/SLACK_PORT/);
    expect(() =>
      parseSlackConfig({ SLACK_BOT_TOKEN: 'x', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: 'ftp://x/' }),
    ).toThrow(/SLACK_API_URL/);
  });

  it('defaults to HTTP on port 3000 against slack.com, and ends SLACK_API_URL with a slash', () => {
    const http = parseSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret' })!;
    expect(http).toMatchObject({
      port: 3000,
      appToken: undefined,
      apiUrl: 'https://slack.com/api/',
      host: undefined,
    });
    const socket = parseSlackConfig({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      SLACK_PORT: '0',
    })!;
    expect(socket).toMatchObject({ appToken: 'xapp-1', apiUrl: 'http://127.0.0.1:9999/api/', port: 0 });
  });

  it('builds a Socket Mode app when an app token is given (without connecting)', () => {
    const config = parseSlackConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })!;
    expect(createSlackApp(config, log).app).toBeDefined();
  });
});

describe('file downloads', () => {
  it('allows only Slack’s file hosts over HTTPS, and the API server’s origin exactly', () => {
    const ok = (url: string, extra?: string) => isAllowedFileUrl(new URL(url), extra);
    expect(ok('https://files.slack.com/files-pri/T1-F1/download/a.png')).toBe(true);
    expect(ok('https://a.slack-edge.com/x.png')).toBe(true);
    expect(ok('http://files.slack.com/files-pri/T1-F1/a.png')).toBe(false);
    expect(ok('https://files.slack.com.evil.example/a.png')).toBe(false);
    expect(ok('https://evilslack-edge.com/a.png')).toBe(false);
    expect(ok('https://user:pw@files.slack.com/a.png')).toBe(false);
    expect(ok('https://example.com/a.png')).toBe(false);
    expect(ok('http://127.0.0.1:9/f', 'http://127.0.0.1:9')).toBe(true);
    expect(ok('http://127.0.0.1:10/f', 'http://127.0.0.1:9')).toBe(false);
  });

  let server: Server;
  let origin: string;
  const seen: { path: string; auth: string | undefined }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization });
      if (req.url === '/big') {
        // No content-length: the cap has to be applied while streaming.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(Buffer.alloc(600));
        res.end(Buffer.alloc(600));
      } else if (req.url === '/ok') {
        res.writeHead(200).end(Buffer.from('image bytes'));
      } else if (req.url === '/hop') {
        res.writeHead(302, { location: '/ok' }).end();
      } else if (req.url === '/away') {
        res
          .writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/ok` })
          .end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 2_000);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const options = () => ({ token: 'xoxb-secret', extraOrigin: origin, maxBytes: 1000, timeoutMs: 500 });

  it('fetches with the bot token, following a redirect on an allowed host', async () => {
    expect((await downloadPrivateFile(`${origin}/hop`, 'a.png', options())).toString()).toBe('image bytes');
    expect(seen.filter((s) => s.path === '/ok').every((s) => s.auth === 'Bearer xoxb-secret')).toBe(true);
  });

  it('refuses a redirect off the allowed hosts without sending the token there', async () => {
    const before = seen.length;
    const away = downloadPrivateFile(`${origin}/away`, 'a.png', options());
    // A redirect off the hosts is Slack's doing, not the member's: the operator is told the likely cause.
    await expect(away).rejects.toMatchObject({ code: 'host', audience: 'operator' });
    await expect(away).rejects.toThrow(/redirected the download of "a.png" to localhost.*files:read/);
    expect(seen.slice(before).map((s) => s.path)).toEqual(['/away']);
    await expect(downloadPrivateFile('https://example.com/x.png', 'x.png', options())).rejects.toThrow(
      /"x.png" isn't hosted by Slack/,
    );
  });

  it('stops at the size cap while streaming, and at the deadline', async () => {
    await expect(downloadPrivateFile(`${origin}/big`, 'big.png', options())).rejects.toThrow(/is over the/);
    await expect(downloadPrivateFile(`${origin}/slow`, 'slow.png', options())).rejects.toThrow(/too long/);
    await expect(downloadPrivateFile(`${origin}/missing`, 'gone.png', options())).rejects.toThrow(
      /couldn't download "gone.png" from Slack/,
    );
  });
});

describe('/stylize-admin text', () => {
  it('asks Slack who is an admin once per member while the answer is fresh', async () => {
    const asked: string[] = [];
    const client = {
      users: {
        info: async ({ user }: { user: string }) => {
          asked.push(user);
          return { user: { is_admin: user === 'UADMIN' } };
        },
      },
    } as unknown as SlackClient;
    const fresh = adminCheck(60_000);
    expect([await fresh.isAdmin(client, 'UADMIN'), await fresh.isAdmin(client, 'UADMIN')]).toEqual([
      true,
      true,
    ]);
    expect(await fresh.isAdmin(client, 'U2')).toBe(false);
    expect(asked).toEqual(['UADMIN', 'U2']);
    const stale = adminCheck(1);
    await stale.isAdmin(client, 'U3');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stale.isAdmin(client, 'U3');
    expect(asked.filter((u) => u === 'U3')).toHaveLength(2);
  });

  it('parses the subcommands', () => {
    expect(parseAdminCommand('quota show')).toEqual({ kind: 'quota-show' });
    expect(parseAdminCommand('QUOTA')).toEqual({ kind: 'quota-show' });
    expect(parseAdminCommand('quota set member_daily=5 max_size=default')).toEqual({
      kind: 'quota-set',
      patch: { memberDailyJobs: 5, maxSize: null },
    });
    expect(parseAdminCommand('preset add Monet')).toEqual({ kind: 'preset-add', name: 'Monet' });
    expect(parseAdminCommand('preset remove monet')).toEqual({ kind: 'preset-remove', name: 'monet' });
    expect(parseAdminCommand('cancel #12')).toEqual({ kind: 'cancel', jobId: 12 });
    expect(parseAdminCommand('queue')).toEqual({ kind: 'queue' });
    expect(parseAdminCommand('')).toEqual({ kind: 'help' });
    expect(Object.keys(LIMIT_KEYS)).toContain('member_concurrent');
  });

  it('explains what is wrong', () => {
    expect(parseAdminCommand('quota set daily=5')).toMatchObject({
      kind: 'help',
      problem: /not NAME=NUMBER/,
    });
    expect(parseAdminCommand('quota set member_daily=-1')).toMatchObject({ kind: 'help' });
    expect(parseAdminCommand('cancel soon')).toMatchObject({ kind: 'help', problem: /job number/ });
    expect(parseAdminCommand('preset add')).toMatchObject({ kind: 'help', problem: /preset name/ });
    expect(parseAdminCommand('reboot <everything>')).toMatchObject({ problem: /&lt;everything&gt;/ });
  });
});

describe('the /stylize form', () => {
  const choices = { channelId: 'C1', hasPresets: true, sizes: [256, 384, 512], size: 384 };
  const form = (over: Partial<StylizeFormChoices> = {}) =>
    stylizeModal({ ...choices, maxIterations: 500, iterations: 300, ...over });
  const submit = (
    view: ReturnType<typeof stylizeModal>,
    given: Record<string, Record<string, Record<string, unknown>>>,
  ) => {
    const blocks = view.blocks as FormBlock[];
    const meta = JSON.parse(view.private_metadata!);
    return parseStylizeSubmission(
      { state: { values: formState(blocks, given) as never }, blocks: view.blocks },
      { channelId: meta.c, ...(meta.f ? { file: { id: meta.f, name: meta.n } } : {}) },
    );
  };
  const file = (id: string) => ({ value: { type: 'file_input', files: [{ id }] } });
  const select = (value: string) => ({ value: { type: 'external_select', selected_option: { value } } });
  const number = (value: string) => ({ value: { type: 'number_input', value } });

  it('reads a full submission, with the preselected size and the default iterations', () => {
    expect(submit(form(), { content: file('F1'), preset: select('the_scream') })).toEqual({
      ok: true,
      value: {
        contentFileId: 'F1',
        preset: 'the_scream',
        styleFileId: undefined,
        strength: undefined,
        size: 384,
        iterations: 300,
        preserveColors: false,
      },
    });
    const checked = submit(form(), {
      content: file('F1'),
      style: file('F2'),
      strength: number('80'),
      iterations: number(''),
      options: { value: { type: 'checkboxes', selected_options: [{ value: 'preserve_colors' }] } },
    });
    expect(checked).toMatchObject({
      ok: true,
      value: { styleFileId: 'F2', strength: 80, iterations: undefined, preserveColors: true },
    });
  });

  it('offers the sizes and iterations it is given, the most iterations as the input’s maximum', () => {
    const view = form({ sizes: [256, 300], size: 300, maxIterations: 7, iterations: 7 });
    const element = (id: string) => (view.blocks as FormBlock[]).find((b) => b.block_id === id)!.element!;
    expect(element('size').options!.map((o) => o.value)).toEqual(['256', '300']);
    expect(element('size').initial_option).toMatchObject({ value: '300' });
    expect(element('iterations')).toMatchObject({ min_value: '1', max_value: '7', initial_value: '7' });
  });

  it('names each problem by its block (the limits are the core’s to check)', () => {
    expect(submit(form(), { strength: number('101'), size: select('9'), iterations: number('0') })).toEqual({
      ok: false,
      errors: {
        content: 'Upload the photo to paint.',
        preset: 'Choose a painting, or upload a style image below.',
        strength: 'The strength is a whole number from 0 to 100.',
        size: 'Choose one of the sizes.',
        iterations: 'The iterations are a whole number, at least 1.',
      },
    });
    const none = form({ hasPresets: false });
    expect(none.blocks.some((b) => b.block_id === 'preset')).toBe(false);
    expect(submit(none, { content: file('F1') })).toEqual({
      ok: false,
      errors: { style: 'Upload a style image.' },
    });
  });

  it('uses the shortcut’s photo unless another is uploaded', () => {
    const view = form({ prefill: { fileId: 'FMSG', fileName: '<b>.png' } });
    expect(JSON.stringify(view.blocks[0])).toContain('&lt;b&gt;.png');
    expect(submit(view, { preset: select('the_scream') })).toMatchObject({
      value: { contentFileId: 'FMSG' },
    });
    expect(submit(view, { preset: select('the_scream'), content: file('F9') })).toMatchObject({
      value: { contentFileId: 'F9' },
    });
  });

  it('searches any number of presets, at most Slack’s 100 options of 75 characters each', () => {
    const many: PresetInfo[] = Array.from({ length: 130 }, (_, i) => ({
      name: `p${String(i).padStart(3, '0')}`,
      label: `Painting ${i} — ${'A very long artist name '.repeat(3)}`,
      own: true,
    }));
    const options = presetOptions(many, '');
    expect(options).toHaveLength(MAX_SELECT_OPTIONS);
    expect(options.every((o) => o.text.text.length <= 75)).toBe(true);
    expect(presetOptions(many, 'p129').map((o) => o.value)).toEqual(['p129']);
    expect(presetOptions(many, 'painting 12').map((o) => o.value)).toEqual([
      'p012',
      'p120',
      'p121',
      'p122',
      'p123',
      'p124',
      'p125',
      'p126',
      'p127',
      'p128',
      'p129',
    ]);
  });
});

describe('rendering', () => {
  it('formats durations and bars', () => {
    expect(formatDuration(400)).toBe('1 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(3 * 60_000)).toBe('3 min');
    expect(formatDuration(65 * 60_000)).toBe('1 h 5 min');
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(Number.NaN, 4)).toBe('░░░░');
  });

  it('words any error for the member: their own refusals escaped, a quota with its reset in their time, nothing internal', () => {
    const quota = new QuotaError('memberDailyJobs', 3, new Date(Date.UTC(2030, 0, 2)), 'Three a day.');
    expect(errorText(quota)).toBe(
      'Three a day. The limit resets <!date^1893542400^{date_short_pretty} at {time}|2030-01-02 00:00 UTC>.',
    );
    expect(errorText(new UserError('not-found', 'No preset called "<!channel>".'))).toBe(
      'No preset called "&lt;!channel&gt;".',
    );
    expect(errorText(new Error('ECONNRESET 10.0.0.3:5432'))).toBe(INTERNAL_FAULT_TEXT);
    const scope = new MemberFacingError('slack-scope', 'Add files:read.', { audience: 'operator' });
    expect(errorText(scope)).toBe(OPERATOR_FAULT_TEXT);
    // An operator's problem that names its likely cause, and nothing secret, is told to the member too.
    const told = new MemberFacingError('content-type', 'Slack sent a <web page>.', {
      audience: 'operator',
      tellMember: true,
    });
    expect(errorText(told)).toBe(`${OPERATOR_FAULT_TEXT} Slack sent a &lt;web page&gt;.`);
  });
});

describe('/stylize history text', () => {
  it('counts one painting in the singular, and leaves out a link Slack would not give', () => {
    const at = new Date(1_700_000_000_000);
    const text = historyText(
      [
        {
          job: jobView({ platform: 'slack', status: 'failed', createdAt: at, finishedAt: at }),
          imagesKept: false,
          resultKept: false,
        },
      ],
      new Map(),
    );
    expect(text).toBe(
      '*Your last 1 painting in this workspace*:\n' +
        `• Job 7 · *starry_night* · asked ${localTime(at)} · failed ${localTime(at)}`,
    );
  });
});

describe('Slack job events', () => {
  const view = (over: Partial<JobView> = {}): JobView =>
    jobView({
      platform: 'slack',
      server: 'T1',
      channelId: 'C1',
      threadId: '100.1',
      chatRefs: JSON.stringify({ progressTs: '100.2' }),
      requesterId: 'U1',
      options: { size: 24, iterations: 100, strength: 50, layers: 'shallow', preserveColors: false },
      startedAt: new Date(),
      ...over,
    });
  const at = (iteration: number, preview = false): JobProgress => ({
    iteration,
    iterations: 100,
    loss: 1,
    etaMs: 1000,
    preview: preview ? { mime: 'image/jpeg', bytes: Buffer.from('jpeg') } : undefined,
  });

  function stub() {
    const calls: { method: string; args: Record<string, unknown> }[] = [];
    /** Slack calls and refs recorded, in the order they happened. */
    const order: string[] = [];
    const record = (method: string) => async (args: Record<string, unknown>) => {
      calls.push({ method, args });
      order.push(method);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { ok: true, ts: `200.${calls.length}` };
    };
    const client = {
      chat: { update: record('chat.update'), postMessage: record('chat.postMessage') },
      files: { uploadV2: record('files.uploadV2') },
    } as unknown as SlackClient;
    const saved: SlackRefs[] = [];
    const config: Pick<SlackConfig, 'progressEveryMs' | 'previewsPerJob'> = {
      progressEveryMs: 150,
      previewsPerJob: 1,
    };
    const events = createSlackEvents({
      client,
      config,
      log,
      saveRefs: async (_job, refs) => {
        saved.push(refs);
        order.push('saveRefs');
      },
    });
    return { events, calls, saved, order };
  }

  it('edits the progress message at most once per interval, with the latest state, and ends after it', async () => {
    const { events, calls, saved } = stub();
    for (let i = 1; i <= 30; i++) await events.progress(view(), at(i, i === 30));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await events.progress(view(), at(55, true));
    await new Promise((resolve) => setTimeout(resolve, 400));
    // The first report is written at once; the 29 of the burst after it and the one 50 ms later make one
    // edit after the interval, with the latest state.
    const updates = calls.filter((c) => c.method === 'chat.update');
    expect(updates.map((c) => c.args.text)).toEqual([
      expect.stringContaining('iteration 1 of 100'),
      expect.stringContaining('iteration 55 of 100'),
    ]);
    expect(updates.every((c) => c.args.ts === '100.2' && c.args.channel === 'C1')).toBe(true);
    // One preview, at halfway (not at 30%, though that one had a preview), in the thread.
    const previews = calls.filter((c) => c.method === 'files.uploadV2');
    expect(previews).toHaveLength(1);
    expect(previews[0]!.args.thread_ts).toBe('100.1');
    expect(saved).toEqual([{ progressTs: '100.2', previews: 1 }]);

    // After a quiet interval a report is written at once; the end waits for that write, then closes the message,
    // and what is reported after the end is never written.
    await events.progress(view(), at(60));
    await events.cancelled(view({ status: 'cancelled' }));
    await events.progress(view(), at(61));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls.filter((c) => c.method === 'chat.update').map((c) => c.args.text)).toEqual([
      expect.stringContaining('iteration 1 of 100'),
      expect.stringContaining('iteration 55 of 100'),
      expect.stringContaining('iteration 60 of 100'),
      expect.stringMatching(/cancelled/),
    ]);
    expect(saved.at(-1)).toMatchObject({ done: true });
    await events.stop();
  });

  it('records a preview before uploading it, so a bot killed after the upload does not post it again', async () => {
    const { events, saved, order } = stub();
    await events.progress(view(), at(60, true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(order).toEqual(['chat.update', 'saveRefs', 'files.uploadV2']);
    // The restarted bot reads the refs recorded with the job: the preview is not posted again.
    const again = stub();
    await again.events.progress(view({ chatRefs: JSON.stringify(saved.at(-1)) }), at(70, true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(again.calls.map((c) => c.method)).toEqual(['chat.update']);
    await events.stop();
    await again.events.stop();
  });

  it('waits for the thread the /stylize flow is posting', async () => {
    const { events, calls } = stub();
    const thread = events.expect('100.1');
    const completed = events.completed(view({ chatRefs: null, status: 'succeeded' }), {
      result: { mime: 'image/png', bytes: Buffer.from('r') },
      comparison: { mime: 'image/png', bytes: Buffer.from('c') },
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toHaveLength(0);
    thread.resolve({ progressTs: '100.9' });
    await completed;
    const upload = calls.find((c) => c.method === 'files.uploadV2')!;
    expect(upload.args).toMatchObject({ channel_id: 'C1', thread_ts: '100.1' });
    expect((upload.args.file_uploads as { filename: string }[]).map((f) => f.filename)).toEqual([
      'painting-7.png',
      'side-by-side-7.png',
    ]);
    expect(calls.find((c) => c.method === 'chat.update')!.args.ts).toBe('100.9');

    expect(calls).toHaveLength(2);
    expect(progressMessage(view(), at(50)).blocks.at(-1)).toMatchObject({ type: 'actions' });
    const early = JSON.stringify(progressMessage(view(), { ...at(61), converged: true }).blocks);
    expect(early).toContain('Converged early, after 61 of up to 100 iterations: finishing');
    expect(early).toContain('100%');
    expect(completedMessage(view({ iteration: 62, converged: true })).text).toContain(
      '(converged early, after 62 of up to 100 iterations)',
    );
    expect(completedMessage(view()).text).not.toContain('converged');
    await events.stop();
  });

  it('puts the variations a finished painting offers under its done message, and names what a variation changed', () => {
    const done = jobView({ status: 'succeeded', platform: 'slack' });
    const blocks = completedMessage(done, ['more-style', 'colours', 'larger']).blocks;
    expect(blocks.at(-1)).toEqual({
      type: 'actions',
      block_id: 'final_7',
      elements: [
        {
          type: 'button',
          action_id: 'stylize_vary_more-style',
          text: { type: 'plain_text', text: 'More style' },
          value: '7',
        },
        {
          type: 'button',
          action_id: 'stylize_vary_colours',
          text: { type: 'plain_text', text: 'Keep my colours' },
          value: '7',
        },
        {
          type: 'button',
          action_id: 'stylize_vary_larger',
          text: { type: 'plain_text', text: 'Larger' },
          value: '7',
        },
        {
          type: 'button',
          action_id: 'stylize_timelapse',
          text: { type: 'plain_text', text: 'Timelapse' },
          value: '7',
        },
        expect.objectContaining({
          type: 'button',
          action_id: 'stylize_delete',
          text: { type: 'plain_text', text: 'Delete' },
          style: 'danger',
          value: '7',
          confirm: expect.objectContaining({ confirm: { type: 'plain_text', text: 'Delete' } }),
        }),
      ],
    });
    expect(variationOfAction('stylize_vary_less-style')).toBe('less-style');
    expect(variationOfAction('stylize_vary_bigger')).toBeUndefined();
    // With no variation left to offer, Timelapse and Delete alone.
    const alone = completedMessage(done).blocks.filter((b) => b.type === 'actions');
    expect(
      alone.flatMap((b) => (b as { elements: { action_id: string }[] }).elements.map((e) => e.action_id)),
    ).toEqual(['stylize_timelapse', 'stylize_delete']);
    const kept = jobView({ options: { ...done.options, preserveColors: true } });
    expect(JSON.stringify(completedMessage(kept, ['colours']).blocks)).toContain(
      'Use the painting’s colours',
    );
    const larger = jobView({
      id: 8,
      options: { ...done.options, size: 576 },
      variationOf: { jobId: 7, kind: 'larger' },
    });
    expect(completedMessage(larger).text).toMatch(
      /^:white_check_mark: Job 8 \(job 7 larger, 576 px\) is done/,
    );
  });
});
