import { LIMIT_RULES } from '../../lib/request-rules.ts';
import { LIMIT_NAMES, type LimitName, type LimitsPatch } from '../../rules/index.ts';
import { escapeText } from '../render.ts';

/** Limit names as admins type them (Discord's option names too: LIMIT_RULES), and the core's. */
export const LIMIT_KEYS: Record<string, LimitName> = Object.fromEntries(
  LIMIT_NAMES.map((name) => [LIMIT_RULES[name].key, name]),
);

/** What `/stylize-admin`'s text asks for; `help` (the usage) with the problem when the text asks for nothing known. */
export type AdminCommand =
  | { kind: 'quota-show' }
  | { kind: 'quota-set'; patch: LimitsPatch }
  | { kind: 'preset-add'; name: string }
  | { kind: 'preset-remove'; name: string }
  | { kind: 'cancel'; jobId: number }
  | { kind: 'queue' }
  | { kind: 'help'; problem?: string };

/** Said to a member who is not an admin or owner of the workspace. */
export const ADMIN_REFUSAL = 'Only the admins and owners of this workspace can use /stylize-admin.';

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
