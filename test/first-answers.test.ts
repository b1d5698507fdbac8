/**
 * Every interaction answered within its platform's deadline while the database is locked, and carried out once
 * the lock goes: on SQLite a write transaction held by another connection (as a busy worker process holds one),
 * on PostgreSQL every table of the app locked by another session. One lock window of 5 s is shared by all the
 * interactions of a platform, sent together as it starts. Discord's fake refuses a first answer after 3 s (404
 * Unknown interaction), as Discord does; Slack gives up on a request after 3 s, so the test's requests do too.
 * The longest time to a first answer of each handler is printed.
 */
import { REST } from '@discordjs/rest';
import Sqlite from 'better-sqlite3';
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIMessage,
  Routes,
} from 'discord-api-types/v10';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelButtonId, deleteButtonId, timelapseButtonId, variationButtonId } from '../discord/buttons.ts';
import { deletionMessages } from '../discord/components/delete.ts';
import { requireDiscordConfig } from '../discord/config.ts';
import { type DiscordAdapter, startDiscord } from '../discord/index.ts';
import type { Core } from '../jobs/core.ts';
import { sqlitePath } from '../jobs/migrate.ts';
import { startNotifier } from '../jobs/notifier.ts';
import { claimJob } from '../jobs/scheduler.ts';
import { type SubmitRequest, submitJob } from '../rules/submit.ts';
import { type SlackAdapter, startSlack } from '../slack/index.ts';
import { deletionTexts } from '../slack/listeners/delete-button.ts';
import { STYLIZE_MODAL } from '../slack/modal.ts';
import { CANCEL_ACTION, DELETE_ACTION, TIMELAPSE_ACTION, VARIATION_ACTION_PREFIX } from '../slack/render.ts';
import { asset } from './assets.ts';
import type { FakeDiscord, InjectedInteraction } from './discord/fake-discord.ts';
import {
  createTestDatabase,
  finishJob,
  PAINTS_ANY,
  PROVIDERS,
  type Provider,
  picture,
  recordingEvents,
  type TestDatabase,
  testCore,
  waitFor,
} from './job-system.ts';
import { SECRET, slackTestConfig, startFakeDiscord, TOKEN } from './platforms.ts';
import { FakeSlack } from './slack/fake-slack.ts';
import {
  blockAction,
  blockSuggestion,
  type FormView,
  formState,
  messageShortcut,
  postSigned,
  slashCommand,
  viewSubmission,
  type Who,
} from './slack/requests.ts';

const LOCK_MS = 5_000;
const SLACK_DEADLINE_MS = 3_000;
const log = pino({ level: 'silent' });
/** Longest time to a first answer by handler, over both databases: printed at the end. */
const longest = new Map<string, { ms: number; provider: Provider }>();

function record(handler: string, ms: number, provider: Provider): void {
  if ((longest.get(handler)?.ms ?? -1) < ms) longest.set(handler, { ms, provider });
}

/** Takes the lock another process would hold; resolves it released after LOCK_MS. */
async function lockDatabase(db: TestDatabase): Promise<{ released: Promise<void> }> {
  const later = (release: () => unknown) =>
    new Promise<void>((resolve) =>
      setTimeout(async () => {
        await release();
        resolve();
      }, LOCK_MS),
    );
  if (db.provider === 'sqlite') {
    const other = new Sqlite(sqlitePath(db.url));
    other.exec('BEGIN IMMEDIATE');
    return {
      released: later(() => {
        other.exec('COMMIT');
        other.close();
      }),
    };
  }
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  const { rows } = await other.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_migrations'`,
  );
  await other.query('BEGIN');
  await other.query(`LOCK TABLE ${rows.map((r) => r.name).join(', ')} IN ACCESS EXCLUSIVE MODE`);
  return { released: later(() => other.query('COMMIT').then(() => other.end())) };
}

/** A finished painting of `requester`'s (its images stored), made through the core. */
async function finishedPainting(core: Core, request: SubmitRequest): Promise<number> {
  const { job } = await submitJob(core, request);
  const lease = await claimJob(core.db, 'test-worker', core.config.limits, PAINTS_ANY);
  expect(lease?.jobId).toBe(job.id);
  await finishJob(core, lease!);
  return job.id;
}

/**
 * Two finished paintings, a queued job and one to cancel, of `requester`, made through the core. The Delete
 * button's painting has its end passed on (as a painting whose result was posted has): Delete waits for that.
 */
async function paintings(core: Core, request: (seed: number) => Promise<SubmitRequest>) {
  // The claims below are for this server's jobs: the other platform's, left queued, wait their turn.
  const { server } = await request(0);
  await core.db.prisma.server.updateMany({
    where: { NOT: { platform: server.platform, externalId: server.id } },
    data: { lastClaimedAt: new Date(Date.now() + 3_600_000) },
  });
  const finished = await finishedPainting(core, await request(1));
  // Delete's own painting: deleting the one the variation and Timelapse buttons use would race them.
  const deletable = await finishedPainting(core, await request(6));
  const notifier = startNotifier(core, {
    discord: recordingEvents().events,
    slack: recordingEvents().events,
  });
  await notifier.drain();
  await notifier.stop();
  const queued = await submitJob(core, await request(2));
  // The Cancel button's own job: cancelling the one that status and the admin's queue list would race them.
  const cancellable = await submitJob(core, await request(5));
  return { finished, deletable, queued: queued.job.id, cancellable: cancellable.job.id };
}

describe.each(PROVIDERS)('first answers while the database is locked, on %s', (provider) => {
  let db: TestDatabase;
  let core: Core;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    // Every handler that asks for a painting gets one: more at once than the default allows a member.
    core = await testCore(db, { PRESETS_DIR: asset('styles'), QUOTA_MEMBER_ACTIVE_JOBS: '10' });
  });
  afterAll(async () => {
    await core?.close();
    await db?.drop();
  });

  describe('Discord', () => {
    let fake: FakeDiscord;
    let bot: DiscordAdapter;
    beforeAll(async () => {
      fake = await startFakeDiscord();
      const config = requireDiscordConfig({
        DISCORD_TOKEN: fake.token,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_API_URL: fake.apiUrl,
        DISCORD_CDN_URL: fake.cdnUrl,
      });
      bot = await startDiscord(core, config, log, {
        jobDefaults: { size: 24, iterations: 2, layers: 'shallow' },
      });
    });
    afterAll(async () => {
      await bot?.stop();
      await fake?.close();
    });

    it('answers every command, button and autocompletion in time, and carries them out after', async () => {
      const { alice, admin, bob } = fake.users;
      const server = { platform: 'discord' as const, id: fake.guildId };
      const { finished, deletable, queued, cancellable } = await paintings(core, async (seed) => ({
        server,
        channelId: fake.channelId,
        requesterId: alice.id,
        content: await picture(seed, 24, 18),
        styles: [{ preset: 'starry_night' }],
        options: { size: 24, iterations: 2, layers: 'shallow' },
      }));
      const job = { requesterId: alice.id };
      // The message the buttons are on (the painting's final message, as far as the buttons go).
      const rest = new REST({ api: fake.apiUrl }).setToken(fake.token);
      const finalMessage = (await rest.post(Routes.channelMessages(fake.channelId), {
        body: { content: 'the painting' },
      })) as { id: string; channel_id: string };
      const photo = await picture(3, 24, 18);
      // A member's message with a photo, a member with an avatar, and a picker shown with a painting chosen.
      const photoMessage = fake.postMemberMessage({
        user: bob,
        attachments: [{ filename: 'photo.png', bytes: await picture(7, 24, 18) }],
      });
      fake.setAvatar(bob, await picture(8, 24, 24));
      const pickerShown = await fake.sendMessageCommand({
        name: 'Stylize this image',
        message: photoMessage,
      });
      const picker = await waitFor('the picker', async () => {
        const shown = fake.originalMessage(pickerShown);
        return shown && customIds(shown).length > 0 ? shown : undefined;
      });
      const at = { id: picker.id, channel_id: picker.channel_id };
      const style = await fake.sendSelect({
        customId: customIdOf(picker, 'stylize:pick:style:'),
        values: ['starry_night'],
        message: at,
        user: alice,
      });
      await fake.waitForCallback(style);
      const chosen = await waitFor('the painting chosen', async () =>
        customIds(fake.message(picker.id)).some((id) => id.startsWith('stylize:pick:go:starry_night:'))
          ? fake.message(picker.id)
          : undefined,
      );

      const { released } = await lockDatabase(db);
      const sent: Record<string, InjectedInteraction> = {
        '/stylize': await fake.sendSlashCommand({
          name: 'stylize',
          options: { image: { filename: 'photo.png', bytes: photo }, style: 'starry_night' },
          user: alice,
        }),
        '/stylize-presets': await fake.sendSlashCommand({ name: 'stylize-presets' }),
        '/stylize-history': await fake.sendSlashCommand({ name: 'stylize-history', user: alice }),
        '/stylize-admin queue': await fake.sendSlashCommand({ name: 'stylize-admin queue', user: admin }),
        'autocomplete style': await fake.sendAutocomplete({
          name: 'stylize',
          options: { style: 'star' },
          focused: 'style',
        }),
        'Cancel button': await fake.sendButton({
          customId: cancelButtonId({ id: cancellable, ...job }),
          message: finalMessage,
          user: alice,
        }),
        'variation button (More style)': await fake.sendButton({
          customId: variationButtonId('more-style', { id: finished, ...job }),
          message: finalMessage,
          user: alice,
        }),
        'Timelapse button': await fake.sendButton({
          customId: timelapseButtonId(finished),
          message: finalMessage,
        }),
        '/stylize-help': await fake.sendSlashCommand({ name: 'stylize-help', user: alice }),
        'Stylize this image (message command)': await fake.sendMessageCommand({
          name: 'Stylize this image',
          message: photoMessage,
          user: alice,
        }),
        'Paint this avatar (user command)': await fake.sendUserCommand({
          name: 'Paint this avatar',
          target: bob,
          user: alice,
        }),
        'picker select menu (strength)': await fake.sendSelect({
          customId: customIdOf(chosen, 'stylize:pick:strength:'),
          values: ['75'],
          message: at,
          user: alice,
        }),
        'picker Paint button': await fake.sendButton({
          customId: customIdOf(chosen, 'stylize:pick:go:'),
          message: at,
          user: alice,
        }),
        'Delete button': await fake.sendButton({
          customId: deleteButtonId({ id: deletable, ...job }),
          message: finalMessage,
          user: alice,
        }),
      };
      for (const [handler, interaction] of Object.entries(sent)) {
        const callback = await fake.waitForCallback(interaction, LOCK_MS + 5_000);
        expect({ handler, status: callback.status }).toEqual({ handler, status: 204 });
        record(`Discord ${handler}`, callback.at - fake.interaction(interaction.id).createdAt, provider);
      }
      await released;

      // Carried out once the lock is gone.
      const answered = (handler: string) =>
        waitFor(`${handler} carried out`, async () => {
          const reply = fake.originalMessage(sent[handler]!);
          const followed = fake.followups(sent[handler]!).at(-1);
          const shown = followed ?? reply;
          return shown && ((shown.flags ?? 0) & 128) === 0 && shown.content ? shown.content : undefined;
        });
      expect(await answered('/stylize')).toMatch(/#/);
      expect(await answered('/stylize-presets')).toMatch(/starry/i);
      expect(await answered('/stylize-history')).toMatch(new RegExp(`#${finished}`));
      expect(await answered('/stylize-admin queue')).toMatch(new RegExp(`#${queued}`));
      expect(await answered('Cancel button')).toMatch(/cancelled/);
      expect(await answered('variation button (More style)')).toMatch(/#/);
      expect(await answered('Timelapse button')).toMatch(/timelapse/i);
      expect(await answered('/stylize-help')).toMatch(/\*\*You\*\*: .*\d+ of your 20 used/);
      expect(await answered('Stylize this image (message command)')).toMatch(/^Paint this image: choose/);
      expect(await answered('Paint this avatar (user command)')).toContain(`<@${bob.id}>’s avatar`);
      await waitFor('the strength chosen in the picker', async () =>
        customIds(fake.message(picker.id)).some((id) => id.startsWith('stylize:pick:go:starry_night::75:'))
          ? true
          : undefined,
      );
      const paintJob = Number(/#(\d+)/.exec(await answered('picker Paint button'))?.[1]);
      expect(await answered('Delete button')).toBe(deletionMessages.deleted(deletable));
      const rows = await core.db.prisma.job.findMany();
      expect(rows.find((r) => r.id === cancellable)?.status).toBe('cancelled');
      expect(rows.find((r) => r.id === deletable)?.deletedAt).toBeInstanceOf(Date);
      // The picker's Paint asked for the painting its button carried, for alice.
      const painting = rows.find((r) => r.id === paintJob);
      expect(painting?.requesterId).toBe(alice.id);
      expect(JSON.parse(painting?.styleRefs ?? '[]')[0]?.name).toContain('The Starry Night');
      expect(rows.some((r) => r.parentJobId === finished)).toBe(true);
      // The autocompletion answered while locked may have been empty; the next keystroke gets the choices.
      const again = await fake.sendAutocomplete({
        name: 'stylize',
        options: { style: 'star' },
        focused: 'style',
      });
      const choices = (await fake.waitForCallback(again)).body as { data: { choices: unknown[] } };
      expect(choices.data.choices.length).toBeGreaterThan(0);
    }, 60_000);
  });

  describe('Slack', () => {
    let slack: FakeSlack;
    let adapter: SlackAdapter;
    let endpoint: string;
    const alice: Who = { teamId: 'T0LOCK', userId: 'U0ALICE', channelId: 'C0ART' };
    const carol: Who = { ...alice, userId: 'U0CAROL' };
    beforeAll(async () => {
      slack = new FakeSlack(TOKEN, alice.teamId);
      await slack.start();
      slack.users.set(alice.userId, {});
      slack.users.set(carol.userId, { is_admin: true });
      const config = slackTestConfig(slack);
      adapter = await startSlack(core, config, log);
      endpoint = `http://127.0.0.1:${adapter.port}/slack/events`;
    });
    afterAll(async () => {
      await adapter?.stop();
      await slack?.close();
    });

    /** Posts as Slack does, giving up after Slack's 3 s; resolves with the time the ack took. */
    async function timed(body: string): Promise<number> {
      const start = Date.now();
      const response = await Promise.race([
        postSigned(endpoint, body, { secret: SECRET }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('Slack gave up: no ack in 3 s')), SLACK_DEADLINE_MS),
        ),
      ]);
      expect(response.status).toBe(200);
      return Date.now() - start;
    }

    it('acknowledges every command, action, form, shortcut and option request in time, and carries them out after', async () => {
      const server = { platform: 'slack' as const, id: alice.teamId };
      const { finished, deletable, queued, cancellable } = await paintings(core, async (seed) => ({
        server,
        channelId: alice.channelId,
        threadId: `1700000000.00000${seed}`,
        requesterId: alice.userId,
        content: await picture(seed, 24, 18),
        styles: [{ preset: 'starry_night' }],
        options: { size: 24, iterations: 2, layers: 'shallow' },
      }));
      const trigger = () => `trigger-${Math.random().toString(36).slice(2)}`;
      const url = () => slack.responseUrl();
      const command = (who: Who, name: string, text: string, responseUrl = url()) =>
        slashCommand(who, name, text, { triggerId: trigger(), responseUrl });
      // The form, opened before the lock, and a member's photo for it.
      await timed(command(alice, '/stylize', ''));
      const form = (await slack.waitForCall('views.update', (c) => c.args.view_id !== undefined)).args
        .view as FormView;
      const photo = slack.addFile('photo.png', await picture(4, 24, 18));
      const formId = 'VFORM';
      const message = { ts: '1700000000.000001' };
      const responses = {
        status: url(),
        history: url(),
        admin: url(),
        cancel: url(),
        vary: url(),
        lapse: url(),
        help: url(),
        delete: url(),
      };
      const viewsBefore = slack.callsOf('views.update').length;
      // Delete's painting as posted: the member's request, and the bot's result in its thread.
      const deletableThread = '1700000000.000006';
      const posted = { channel: alice.channelId, thread_ts: deletableThread, user: 'U0BOT', bot_id: 'B0BOT' };
      slack.messages.push(
        { channel: alice.channelId, ts: deletableThread, user: alice.userId, bot_id: '', text: 'my photo' },
        {
          ...posted,
          ts: '1700000001.000001',
          text: 'done',
          files: [{ id: 'F0DONE', name: `painting-${deletable}.png` }],
        },
      );

      const { released } = await lockDatabase(db);
      const requests: Record<string, string> = {
        '/stylize (the form)': command(alice, '/stylize', ''),
        '/stylize status': command(alice, '/stylize', `status ${queued}`, responses.status),
        '/stylize history': command(alice, '/stylize', 'history', responses.history),
        '/stylize-admin queue': command(carol, '/stylize-admin', 'queue', responses.admin),
        'shortcut Stylize this image': messageShortcut(
          alice,
          'stylize_this_image',
          { ts: message.ts, files: [slack.fileObject(photo)] },
          { triggerId: trigger(), responseUrl: url() },
        ),
        'painting search (options)': blockSuggestion(
          alice,
          { id: formId, callback_id: STYLIZE_MODAL },
          { block_id: 'preset', action_id: 'value' },
          'star',
        ),
        'form submission': viewSubmission(
          alice,
          {
            id: formId,
            callback_id: form.callback_id,
            private_metadata: form.private_metadata,
            blocks: form.blocks,
          },
          formState(form.blocks, {
            content: { value: { type: 'file_input', files: [slack.fileObject(photo)] } },
            preset: {
              value: {
                type: 'external_select',
                selected_option: {
                  text: { type: 'plain_text', text: 'starry_night' },
                  value: 'starry_night',
                },
              },
            },
          }),
        ),
        'Cancel button': blockAction(
          carol,
          message,
          { action_id: CANCEL_ACTION, value: String(cancellable) },
          responses.cancel,
        ),
        'variation button (More style)': blockAction(
          alice,
          message,
          { action_id: `${VARIATION_ACTION_PREFIX}more-style`, value: String(finished) },
          responses.vary,
        ),
        'Timelapse button': blockAction(
          alice,
          message,
          { action_id: TIMELAPSE_ACTION, value: String(finished) },
          responses.lapse,
        ),
        '/stylize help': command(alice, '/stylize', 'help', responses.help),
        'Delete button': blockAction(
          alice,
          message,
          { action_id: DELETE_ACTION, value: String(deletable) },
          responses.delete,
        ),
      };
      const times = await Promise.all(Object.values(requests).map((body) => timed(body)));
      for (const [i, handler] of Object.keys(requests).entries())
        record(`Slack ${handler}`, times[i]!, provider);
      await released;

      // Carried out once the lock is gone.
      const responded = (responseUrl: string) =>
        waitFor(
          `the answer to ${responseUrl}`,
          async () => slack.responses.find((r) => responseUrl.endsWith(`/respond/${r.id}`))?.body,
        );
      expect(String((await responded(responses.status)).text)).toMatch(new RegExp(`${queued}`));
      expect(String((await responded(responses.history)).text)).toMatch(new RegExp(`${finished}`));
      expect(String((await responded(responses.admin)).text)).toMatch(new RegExp(`Job ${queued}`));
      expect(String((await responded(responses.cancel)).text)).toMatch(/cancelled/);
      expect(String((await responded(responses.vary)).text)).toMatch(/Your variation is job/);
      expect(String((await responded(responses.lapse)).text)).toMatch(/timelapse/i);
      expect(String((await responded(responses.help)).text)).toMatch(/\*You\*: .*\d+ of your 20 used/);
      expect((await responded(responses.delete)).text).toBe(deletionTexts.deleted(deletable));
      const deleted = await core.db.prisma.job.findUniqueOrThrow({ where: { id: deletable } });
      expect(deleted.deletedAt).toBeInstanceOf(Date);
      expect(slack.callsOf('chat.delete').map((c) => c.args.ts)).toEqual(['1700000001.000001']);
      const views = () =>
        slack
          .callsOf('views.update')
          .slice(viewsBefore)
          .map((c) => JSON.stringify(c.args.view));
      await waitFor('the forms filled in', async () =>
        views().filter((v) => v.includes(STYLIZE_MODAL)).length >= 2 ? true : undefined,
      );
      await waitFor('the submitted form’s outcome', async () =>
        views().some((v) => v.includes('Your painting is job')) ? true : undefined,
      );
    }, 60_000);
  });
});

type Row = APIActionRowComponent<APIComponentInMessageActionRow>;
/** The custom ids of a message's components. */
const customIds = (message: APIMessage | undefined) =>
  ((message?.components ?? []) as Row[]).flatMap((row) =>
    row.components.map((c) => ('custom_id' in c ? c.custom_id : '')),
  );
function customIdOf(message: APIMessage | undefined, prefix: string): string {
  const found = customIds(message).find((id) => id.startsWith(prefix));
  if (!found) throw new Error(`no component ${prefix} in ${JSON.stringify(message?.components)}`);
  return found;
}

afterAll(() => {
  const lines = [...longest.entries()].map(
    ([handler, { ms, provider }]) => `${handler.padEnd(48)} ${String(ms).padStart(5)} ms (${provider})`,
  );
  console.log(`Longest time to a first answer under a ${LOCK_MS / 1000} s lock:\n${lines.join('\n')}`);
});
