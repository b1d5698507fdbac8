import { defaultsWithin, STRENGTH } from '../../lib/request-rules.ts';
import { type MemberAllowance, memberAllowance, type PresetInfo, plural } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { escapeText, localTime } from '../render.ts';
import { faultText } from './shared.ts';

/**
 * `/stylize help`, answered to the member alone: how to ask for a painting (the form, the message shortcut), the
 * options with this workspace's limits and defaults, the paintings (the first by title; the form's search finds
 * them all), and what the member has left today.
 */

/** Paintings named in the help; the form's painting field searches them all. */
const NAMED_PRESETS = 12;

export interface SlackHelpFacts {
  allowance: MemberAllowance;
  defaults: { size: number; iterations: number };
  presets: readonly PresetInfo[];
}

/** The help's text (mrkdwn). */
export function helpText({ allowance: a, defaults, presets }: SlackHelpFacts): string {
  const named = presets
    .slice(0, NAMED_PRESETS)
    .map((p) => escapeText(p.label))
    .join(' · ');
  const more = presets.length > NAMED_PRESETS ? ` … and ${presets.length - NAMED_PRESETS} more` : '';
  const today =
    a.leftToday > 0
      ? `you can ask for *${plural(a.leftToday, 'more painting')}* today`
      : 'you have had all your paintings for today';
  return [
    '*How to ask for a painting*',
    '• `/stylize` opens the form: your photo, a painting (type a title or an artist) or your own style image, and the options.',
    '• On a message with an image: its ⋮ menu → *Stylize this image*.',
    '• Progress and the result come in a thread under your request: *Cancel* stops it; under the result, the variations, *Timelapse* and *Delete* (yours, or any for workspace admins).',
    '*Options* (all optional)',
    `• Size: the longer side, up to *${a.maxSize} px* in this workspace (default ${defaults.size} px)`,
    `• Iterations: up to *${a.maxIterations}* (default ${defaults.iterations}); more is slower and finer`,
    `• Strength: ${STRENGTH.min}-${STRENGTH.max}, how strongly the style is applied (default: what suits the painting)`,
    '• Keep my colours: your photo’s colours, only the brushwork',
    presets.length > 0
      ? `*Paintings* (${presets.length}, found by title or artist in the form): ${named}${more}`
      : '*Paintings*: none yet; upload your own style image in the form.',
    `*You*: ${today} (${a.usedToday} of your ${a.memberDailyJobs} used; the count starts again ${localTime(a.resetsAt)}), ` +
      `${a.active} of ${a.memberActiveJobs} at once queued or in progress. \`/stylize history\` lists your paintings.`,
  ].join('\n');
}

/** The help for this member of this workspace, or the sentence for what went wrong. */
export async function helpAnswer(deps: SlackDeps, teamId: string, userId: string): Promise<string> {
  const server = workspace(teamId);
  try {
    const [allowance, { presets, limits }] = await Promise.all([
      memberAllowance(deps.core, server, userId, deps.config.jobDefaults),
      deps.choices.get(server),
    ]);
    return helpText({ allowance, presets, defaults: defaultsWithin(deps.config.jobDefaults, limits) });
  } catch (error) {
    return faultText(deps.log, error, { server: teamId }, 'slack: help');
  }
}
