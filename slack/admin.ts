import type { App } from '@slack/bolt';
import { reportDownloadFault } from '../chat/download-faults.ts';
import { memberReply } from '../lib/member-error.ts';
import { LIMIT_RULES } from '../lib/request-rules.ts';
import {
  type Actor,
  addPreset,
  cancelJob,
  LIMIT_NAMES,
  type LimitName,
  type LimitsPatch,
  type LimitsReport,
  listQueue,
  plural,
  type QueueEntry,
  removePreset,
  setLimits,
  showLimits,
} from '../rules/index.ts';
import { fetchFiles, type SlackDeps, workspace } from './deps.ts';
import { slackError } from './errors.ts';
import { messageModal, PRESET_MODAL, parsePresetSubmission, presetModal } from './modal.ts';
import { errorText, escapeText, localTime, mention } from './render.ts';

/**
 * `/stylize-admin` for the workspace's admins and owners (users.info: is_admin or is_owner), with subcommands
 * as text: the same core operations as Discord's /stylize-admin. Replies are ephemeral (the command's
 * response_url); `preset add` opens a form for the painting.
 */
export const ADMIN_COMMAND = '/stylize-admin';

/** Limit names as admins type them (Discord's option names too: LIMIT_RULES), and the core's. */
export const LIMIT_KEYS: Record<string, LimitName> = Object.fromEntries(
  LIMIT_NAMES.map((name) => [LIMIT_RULES[name].key, name]),
);

export type AdminCommand =
  | { kind: 'quota-show' }
  | { kind: 'quota-set'; patch: LimitsPatch }
  | { kind: 'preset-add'; name: string }
  | { kind: 'preset-remove'; name: string }
  | { kind: 'cancel'; jobId: number }
  | { kind: 'queue' }
  | { kind: 'help'; problem?: string };

export const ADMIN_USAGE = [
  '`/stylize-admin quota show`: the limits and today’s use',
  `\`/stylize-admin quota set member_daily=5 max_size=512 …\`: change limits (${Object.keys(LIMIT_KEYS).join(', ')}; \`default\` puts one back)`,
  '`/stylize-admin preset add NAME`: add a preset painting (a form asks for the image)',
  '`/stylize-admin preset remove NAME`: remove one of this workspace’s own presets (those that come with the bot ' +
    'stay; a preset of your own under the same name replaces one here)',
  '`/stylize-admin cancel JOB`: cancel any member’s job',
  '`/stylize-admin queue`: the queued and running jobs',
].join('\n');

export function parseAdminCommand(text: string): AdminCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, second, ...rest] = words.map((w, i) => (i < 2 ? w.toLowerCase() : w));
  switch (first) {
    case 'quota':
      if (second === undefined || second === 'show') return { kind: 'quota-show' };
      if (second === 'set') return parseQuotaSet(rest);
      break;
    case 'preset':
      if ((second === 'add' || second === 'remove') && rest.length === 1) {
        return { kind: second === 'add' ? 'preset-add' : 'preset-remove', name: rest[0]! };
      }
      return { kind: 'help', problem: 'Give one preset name: `preset add NAME` or `preset remove NAME`.' };
    case 'cancel': {
      const id = Number(second?.replace(/^#/, ''));
      if (Number.isSafeInteger(id) && id > 0 && rest.length === 0) return { kind: 'cancel', jobId: id };
      return { kind: 'help', problem: 'Give the job number: `cancel 12`.' };
    }
    case 'queue':
      return { kind: 'queue' };
    case undefined:
    case 'help':
      return { kind: 'help' };
  }
  return { kind: 'help', problem: `I don't know \`${escapeText(text.trim())}\`.` };
}

function parseQuotaSet(pairs: string[]): AdminCommand {
  if (pairs.length === 0)
    return { kind: 'help', problem: 'Say which limits to set: `quota set member_daily=5`.' };
  const patch: LimitsPatch = {};
  for (const pair of pairs) {
    const match = /^([a-z_]+)=(\d+|default)$/i.exec(pair);
    const name = match ? LIMIT_KEYS[match[1]!.toLowerCase()] : undefined;
    if (!match || !name) {
      return {
        kind: 'help',
        problem: `\`${escapeText(pair)}\` is not NAME=NUMBER with a NAME among ${Object.keys(LIMIT_KEYS).join(', ')}.`,
      };
    }
    patch[name] = match[2]!.toLowerCase() === 'default' ? null : Number(match[2]);
  }
  return { kind: 'quota-set', patch };
}

export function limitsText(report: LimitsReport): string {
  const lines = report.limits.map(
    (l) => `• \`${LIMIT_RULES[l.name].key}\` = ${l.value}${l.isDefault ? ' (default)' : ''}`,
  );
  const today = `${plural(report.usedToday, 'painting')} today; the daily counts start again ${localTime(report.dailyResetsAt)}`;
  return `*Limits of this workspace* (${today}):\n${lines.join('\n')}`;
}

export function queueText(entries: readonly QueueEntry[]): string {
  if (entries.length === 0) return 'No jobs are queued or running.';
  const lines = entries.map((e) =>
    e.status === 'running'
      ? `• Job ${e.jobId} by ${mention(e.requesterId)}: painting, iteration ${e.iteration} of ${e.iterations}`
      : `• Job ${e.jobId} by ${mention(e.requesterId)}: #${e.position ?? '?'} in the queue`,
  );
  return `*Jobs of this workspace:*\n${lines.join('\n')}`;
}

const REFUSAL = 'Only the admins and owners of this workspace can use /stylize-admin.';

export function registerAdmin(app: App, deps: SlackDeps): void {
  const { core, log } = deps;

  app.command(ADMIN_COMMAND, async ({ command, ack, respond, client }) => {
    await ack();
    const reply = (text: string) => respond({ response_type: 'ephemeral', text });
    const server = workspace(command.team_id);
    try {
      if (!(await deps.admins.isAdmin(client, command.user_id))) {
        await reply(REFUSAL);
        return;
      }
      const actor: Actor = { userId: command.user_id, isAdmin: true };
      const parsed = parseAdminCommand(command.text);
      switch (parsed.kind) {
        case 'quota-show':
          await reply(limitsText(await showLimits(core, server, actor)));
          return;
        case 'quota-set': {
          const report = await setLimits(core, server, parsed.patch, actor);
          deps.choices.delete(server);
          await reply(`Done. ${limitsText(report)}`);
          return;
        }
        case 'preset-add':
          await client.views.open({ trigger_id: command.trigger_id, view: presetModal(parsed.name) });
          return;
        case 'preset-remove':
          await removePreset(core, server, parsed.name, actor);
          deps.choices.delete(server);
          await reply(`Removed the preset *${escapeText(parsed.name)}*.`);
          return;
        case 'cancel': {
          const result = await cancelJob(core, server, parsed.jobId, actor);
          await reply(
            result === 'cancelled' ? `Job ${parsed.jobId} is cancelled.` : `Job ${parsed.jobId} is stopping.`,
          );
          return;
        }
        case 'queue':
          await reply(queueText(await listQueue(core, server, actor)));
          return;
        case 'help':
          await reply(`${parsed.problem ? `${parsed.problem}\n` : ''}${ADMIN_USAGE}`);
          return;
      }
    } catch (error) {
      if (memberReply(error).log)
        log.error({ server: server.id, platform: 'slack', err: slackError(error) }, 'slack: admin');
      await reply(errorText(error)).catch(() => {});
    }
  });

  app.view(PRESET_MODAL, async ({ ack, body, view, client }) => {
    const teamId = body.team?.id ?? body.user.team_id ?? view.team_id;
    const parsed = parsePresetSubmission(view.state.values);
    if (!parsed.ok) {
      await ack({ response_action: 'errors', errors: parsed.errors });
      return;
    }
    await ack({
      response_action: 'update',
      view: messageModal('Add a preset', ':hourglass: Saving the preset…'),
    });
    let outcome: string;
    try {
      if (!(await deps.admins.isAdmin(client, body.user.id))) {
        outcome = REFUSAL;
      } else {
        const [file] = await fetchFiles(deps, client, [parsed.value.fileId]);
        await addPreset(core, workspace(teamId), parsed.value.name, file!.bytes, {
          userId: body.user.id,
          isAdmin: true,
        });
        deps.choices.delete(workspace(teamId));
        outcome = `:white_check_mark: Members can now choose *${escapeText(parsed.value.name)}* in /stylize.`;
      }
    } catch (error) {
      const fields = { server: teamId };
      if (!reportDownloadFault(log, 'slack', error, fields) && memberReply(error).log)
        log.error({ ...fields, platform: 'slack', err: slackError(error) }, 'slack: preset add');
      outcome = errorText(error);
    }
    await client.views
      .update({ view_id: view.id, view: messageModal('Add a preset', outcome) })
      .catch((error: unknown) => log.debug({ err: slackError(error) }, 'slack: the preset form was closed'));
  });
}
