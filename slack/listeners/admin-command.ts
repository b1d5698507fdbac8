import { LIMIT_RULES } from '../../lib/request-rules.ts';
import {
  type Actor,
  cancelJob,
  type LimitsReport,
  listQueue,
  plural,
  type QueueEntry,
  removePreset,
  type ServerRef,
  setLimits,
  showLimits,
} from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { escapeText, localTime, mention } from '../render.ts';
import type { CommandArgs } from '../slack-types.ts';
import { ADMIN_REFUSAL, ADMIN_USAGE, type AdminCommand, parseAdminCommand } from './admin-subcommands.ts';
import { presetModal } from './preset-form.ts';
import { faultText } from './shared.ts';

/**
 * `/stylize-admin` for the workspace's admins and owners (users.info: is_admin or is_owner), with subcommands
 * as text (admin-subcommands.ts): the same core operations as Discord's /stylize-admin. Replies are ephemeral (the
 * command's response_url); `preset add` opens a form for the painting (preset-form.ts).
 */
export const ADMIN_COMMAND = '/stylize-admin';

export async function adminCommand(deps: SlackDeps, { command, ack, respond, client }: CommandArgs) {
  await ack();
  const reply = (text: string) => respond({ response_type: 'ephemeral', text });
  const server = workspace(command.team_id);
  try {
    if (!(await deps.admins.isAdmin(client, command.user_id))) {
      await reply(ADMIN_REFUSAL);
      return;
    }
    const actor: Actor = { userId: command.user_id, isAdmin: true };
    const parsed = parseAdminCommand(command.text);
    if (parsed.kind === 'preset-add') {
      await client.views.open({ trigger_id: command.trigger_id, view: presetModal(parsed.name) });
      return;
    }
    await reply(await carryOut(deps, server, actor, parsed));
  } catch (error) {
    await reply(faultText(deps.log, error, { server: server.id }, 'slack: admin')).catch(() => {});
  }
}

/** Carries out an admin's subcommand (all but `preset add`, a form); returns the reply. */
async function carryOut(
  deps: SlackDeps,
  server: ServerRef,
  actor: Actor,
  parsed: Exclude<AdminCommand, { kind: 'preset-add' }>,
): Promise<string> {
  const { core } = deps;
  switch (parsed.kind) {
    case 'quota-show':
      return limitsText(await showLimits(core, server, actor));
    case 'quota-set': {
      const report = await setLimits(core, server, parsed.patch, actor);
      deps.choices.delete(server);
      return `Done. ${limitsText(report)}`;
    }
    case 'preset-remove':
      await removePreset(core, server, parsed.name, actor);
      deps.choices.delete(server);
      return `Removed the preset *${escapeText(parsed.name)}*.`;
    case 'cancel': {
      const result = await cancelJob(core, server, parsed.jobId, actor);
      return result === 'cancelled'
        ? `Job ${parsed.jobId} is cancelled.`
        : `Job ${parsed.jobId} is stopping.`;
    }
    case 'queue':
      return queueText(await listQueue(core, server, actor));
    case 'help':
      return `${parsed.problem ? `${parsed.problem}\n` : ''}${ADMIN_USAGE}`;
  }
}

/** `quota show` and `quota set`: each limit, whether it is the default, and today's use. */
export function limitsText(report: LimitsReport): string {
  const lines = report.limits.map(
    (l) => `• \`${LIMIT_RULES[l.name].key}\` = ${l.value}${l.isDefault ? ' (default)' : ''}`,
  );
  const today = `${plural(report.usedToday, 'painting')} today; the daily counts start again ${localTime(report.dailyResetsAt)}`;
  return `*Limits of this workspace* (${today}):\n${lines.join('\n')}`;
}

/** `queue`: the workspace's queued and running jobs. */
function queueText(entries: readonly QueueEntry[]): string {
  if (entries.length === 0) return 'No jobs are queued or running.';
  const lines = entries.map((e) =>
    e.status === 'running'
      ? `• Job ${e.jobId} by ${mention(e.requesterId)}: painting, iteration ${e.iteration} of ${e.iterations}`
      : `• Job ${e.jobId} by ${mention(e.requesterId)}: #${e.position ?? '?'} in the queue`,
  );
  return `*Jobs of this workspace:*\n${lines.join('\n')}`;
}
