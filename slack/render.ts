import { memberReply } from '../lib/member-error.ts';
import { type JobProgress, type JobView, VARIATIONS, type VariationKind } from '../rules/index.ts';
import type { KnownBlock, SlackMessage } from './slack-types.ts';

/**
 * The Slack messages of a job, as pure functions of the job, shared by the listeners and the job events: the
 * progress message in its thread (kept up to date, with the Cancel button while the job can be cancelled), the
 * end with its buttons, and the member's sentence for an error. Messages that one listener alone sends are in
 * that listener's module (slack/listeners/).
 */
export const CANCEL_ACTION = 'stylize_cancel';
/** The variation buttons' action ids: this and the variation, e.g. `stylize_vary_more-style`; the value is the job. */
export const VARIATION_ACTION_PREFIX = 'stylize_vary_';
export const TIMELAPSE_ACTION = 'stylize_timelapse';
/** The Delete button of a finished painting: its value is the job id. */
export const DELETE_ACTION = 'stylize_delete';

/** Escapes what Slack's mrkdwn treats as markup in text that came from members (file and preset names). */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const mention = (userId: string) => `<@${userId}>`;

/**
 * A moment in each reader's own time zone, by Slack's date formatting ("today at 5:00 PM", "tomorrow at 1:00 AM",
 * "Feb 18 at 1:00 AM"; https://api.slack.com/reference/surfaces/formatting#date-formatting), in mrkdwn only;
 * clients that cannot format it show the UTC fallback.
 */
export function localTime(at: Date): string {
  const fallback = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

/** "12 s", "3 min", "1 h 5 min". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** A bar of `width` cells for a fraction 0-1. */
export function progressBar(fraction: number, width = 20): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export function styleList(styles: readonly { name: string }[]): string {
  return styles.map((s) => `*${escapeText(s.name)}*`).join(' + ');
}

/** A block of mrkdwn text, and a context block (small grey text). */
export const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
export const context = (text: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text }],
});

export function cancelButton(jobId: number): KnownBlock {
  return {
    type: 'actions',
    block_id: `job_${jobId}`,
    elements: [
      {
        type: 'button',
        action_id: CANCEL_ACTION,
        text: { type: 'plain_text', text: 'Cancel' },
        style: 'danger',
        value: String(jobId),
      },
    ],
  };
}

/** The Delete button, among a finished painting's buttons (finalButtons), with Slack's confirmation dialog. */
export function deleteButton(jobId: number) {
  return {
    type: 'button' as const,
    action_id: DELETE_ACTION,
    text: { type: 'plain_text' as const, text: 'Delete' },
    style: 'danger' as const,
    value: String(jobId),
    confirm: {
      title: { type: 'plain_text' as const, text: 'Delete this painting?' },
      text: {
        type: 'plain_text' as const,
        text: 'Its images go from this thread and from the bot, for good.',
      },
      confirm: { type: 'plain_text' as const, text: 'Delete' },
      deny: { type: 'plain_text' as const, text: 'Keep it' },
      style: 'danger' as const,
    },
  };
}

/** The variation an action id names, if it is a variation button's. */
export function variationOfAction(actionId: string): VariationKind | undefined {
  return VARIATIONS.find((kind) => actionId === `${VARIATION_ACTION_PREFIX}${kind}`);
}

const VARIATION_LABELS = {
  'more-style': () => 'More style',
  'less-style': () => 'Less style',
  colours: (job: JobView) => (job.options.preserveColors ? 'Use the painting’s colours' : 'Keep my colours'),
  larger: () => 'Larger',
} satisfies Record<VariationKind, (job: JobView) => string>;

/**
 * The buttons under a finished painting, in one actions block: the variations it offers now (`choices`, from the
 * core's variationChoices), then Timelapse and Delete.
 */
export function finalButtons(job: JobView, choices: readonly VariationKind[]): KnownBlock[] {
  const button = (action_id: string, text: string) => ({
    type: 'button' as const,
    action_id,
    text: { type: 'plain_text' as const, text },
    value: String(job.id),
  });
  return [
    {
      type: 'actions',
      block_id: `final_${job.id}`,
      elements: [
        ...choices.map((kind) => button(`${VARIATION_ACTION_PREFIX}${kind}`, VARIATION_LABELS[kind](job))),
        button(TIMELAPSE_ACTION, 'Timelapse'),
        deleteButton(job.id),
      ],
    },
  ];
}

/** "Job 12", and for a variation what it changed: "Job 12 (more style than job 9)". */
function jobName(job: JobView): string {
  if (!job.variationOf) return `Job ${job.id}`;
  const { jobId, kind } = job.variationOf;
  const words = {
    'more-style': `more style than job ${jobId}`,
    'less-style': `less style than job ${jobId}`,
    colours: job.options.preserveColors
      ? `job ${jobId} in my colours`
      : `job ${jobId} in the painting’s colours`,
    larger: `job ${jobId} larger, ${job.options.size} px`,
  }[kind];
  return `Job ${job.id} (${words})`;
}

/** The thread's progress message while the job waits in the queue. */
export function queuedMessage(job: JobView, position: number | null, etaMs: number | null): SlackMessage {
  const where =
    position === null ? 'starting' : position === 1 ? 'next in the queue' : `#${position} in the queue`;
  const eta = etaMs !== null ? `; done in about ${formatDuration(etaMs)}` : '';
  const text = `:hourglass_flowing_sand: ${jobName(job)} is ${where}${eta}.`;
  return { text, blocks: [section(text), cancelButton(job.id)] };
}

/** The thread's progress message while the job paints. */
export function progressMessage(job: JobView, progress: JobProgress): SlackMessage {
  const iterations = Math.max(1, progress.iterations);
  const fraction = progress.converged ? 1 : progress.iteration / iterations;
  const percent = Math.floor(fraction * 100);
  const eta = progress.etaMs !== null ? ` · about ${formatDuration(progress.etaMs)} left` : '';
  const text = `:art: Painting job ${job.id}: ${percent}% (iteration ${progress.iteration} of ${iterations})${eta}`;
  const attempt = job.attempts > 1 ? ` · attempt ${job.attempts}` : '';
  const state = progress.converged
    ? `Converged ${earlyAfter(progress.iteration, job)}: finishing`
    : `Iteration ${progress.iteration} of ${iterations}${eta}`;
  return {
    text,
    blocks: [
      section(`:art: Painting job ${job.id} in the style of ${styleList(job.styles)}`),
      section(`\`${progressBar(fraction)}\` ${percent}%`),
      context(`${state}${attempt}`),
      cancelButton(job.id),
    ],
  };
}

/** The progress message once the painting is done, with its buttons (finalButtons). */
export function completedMessage(job: JobView, choices: readonly VariationKind[] = []): SlackMessage {
  const took =
    job.startedAt && job.finishedAt
      ? ` in ${formatDuration(job.finishedAt.getTime() - job.startedAt.getTime())}`
      : '';
  const early = job.converged ? ` (converged ${earlyAfter(job.iteration, job)})` : '';
  const text = `:white_check_mark: ${jobName(job)} is done${took}${early}: the painting and a side-by-side are below.`;
  return { text, blocks: [section(text), ...finalButtons(job, choices)] };
}

/** The painting stopped before its ceiling because it had stopped changing. */
const earlyAfter = (iteration: number, job: JobView) =>
  `early, after ${iteration} of up to ${job.options.iterations} iterations`;

export function resultComment(job: JobView): string {
  return `${mention(job.requesterId)} here is your painting in the style of ${styleList(job.styles)}, and the side-by-side.`;
}

export function previewComment(job: JobView, progress: JobProgress): string {
  return `Job ${job.id} so far (iteration ${progress.iteration} of ${progress.iterations}):`;
}

export function failedMessage(job: JobView, message: string): SlackMessage {
  const text = `:warning: Job ${job.id} failed: ${message}`;
  return { text, blocks: [section(text)] };
}

export function failedReply(job: JobView, message: string): string {
  return `${mention(job.requesterId)} ${message}`;
}

export function cancelledMessage(job: JobView): SlackMessage {
  const text = `:no_entry_sign: Job ${job.id} was cancelled.`;
  return { text, blocks: [section(text)] };
}

/**
 * The member's message (mrkdwn) for any error: a member-facing error's own words (a quota's with when it resets,
 * in the member's time), the general sentence for an operator's problem or an internal fault.
 */
export function errorText(error: unknown): string {
  const reply = memberReply(error);
  const text = escapeText(reply.text);
  const { resetsAt } = reply.context;
  if (!(resetsAt instanceof Date)) return text;
  return `${text} The limit resets ${localTime(resetsAt)}.`;
}
