/**
 * Everything the Discord adapter says, as pure functions: job states and core reports in, message payloads out.
 * No network and no discord.js client here, so all of it is testable as data.
 */

import type { RawFile } from '@discordjs/rest';
import {
  type APIActionRowComponent,
  type APIApplicationCommandOptionChoice,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
  type RESTPatchAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';
import { historyState } from '../chat/history-state.ts';
import { matchPresets } from '../chat/preset-choices.ts';
import { decodeRefs } from '../chat/refs.ts';
import { memberReply } from '../lib/member-error.ts';
import { LIMIT_RULES, OFFERED_SIZES, type RequestLimits, SIZE, sizesAllowed } from '../lib/request-rules.ts';
import {
  type HistoryEntry,
  type JobProgress,
  type JobView,
  type LimitsReport,
  type PresetInfo,
  plural,
  type QueueEntry,
  VARIATIONS,
  type VariationKind,
} from '../rules/index.ts';
import { LIMIT_OPTIONS } from './commands/definitions.ts';
import { deleteRow } from './deletion.ts';
import { channelLink, messageLink } from './refs.ts';

export interface FileSpec {
  name: string;
  data: Buffer;
  contentType?: string;
}

/** A message to send or an edit to make. */
export interface MessageSpec {
  content: string;
  /** Undefined: an edit leaves the buttons as they are; []: removes them. */
  components?: APIActionRowComponent<APIButtonComponent>[];
  /** Undefined: an edit keeps the attachments; otherwise they are replaced by these. */
  files?: FileSpec[];
  /** The only users the message may ping (nobody by default). */
  mentionUsers?: string[];
}

const MAX_CONTENT = 2000;

// ---------------------------------------------------------------------------------------- conversions

/** The body and files of a channel message create or edit (REST, with the bot token). */
export function toRest(spec: MessageSpec): { body: RESTPatchAPIChannelMessageJSONBody; files?: RawFile[] } {
  const body: RESTPatchAPIChannelMessageJSONBody = {
    content: clip(spec.content),
    allowed_mentions: { parse: [], users: spec.mentionUsers ?? [] },
  };
  if (spec.components !== undefined) body.components = spec.components;
  if (spec.files === undefined) return { body };
  body.attachments = spec.files.map((file, id) => ({ id, filename: file.name }));
  return {
    body,
    files: spec.files.map((file, i) => ({
      key: `files[${i}]`,
      name: file.name,
      data: file.data,
      ...(file.contentType ? { contentType: file.contentType } : {}),
    })),
  };
}

/** The options of discord.js's reply, editReply and followUp. */
export function toInteractionReply(spec: MessageSpec) {
  return {
    content: clip(spec.content),
    allowedMentions: { parse: [], users: spec.mentionUsers ?? [] },
    ...(spec.components !== undefined ? { components: spec.components } : {}),
    ...(spec.files !== undefined
      ? { files: spec.files.map((f) => ({ attachment: f.data, name: f.name })), attachments: [] }
      : {}),
  };
}

// --------------------------------------------------------------------------------------------- jobs

const styleNames = (job: Pick<JobView, 'styles'>) => job.styles.map((s) => s.name).join(' + ');

const timestamp = (at: number, style: 'R' | 'T' = 'R') => `<t:${Math.round(at / 1000)}:${style}>`;

function summary(job: JobView): string {
  const o = job.options;
  const variation = job.variationOf ? `, ${variationWords(job)}` : '';
  return (
    `Painting #${job.id} in the style of **${styleNames(job)}** ` +
    `(${o.size} px, ${plural(o.iterations, 'iteration')}, strength ${o.strength}${o.preserveColors ? ', colours kept' : ''}${variation})`
  );
}

/** What a variation changed, against the painting it varies: "more style than #9". */
function variationWords(job: JobView): string {
  const { jobId, kind } = job.variationOf!;
  switch (kind) {
    case 'more-style':
      return `more style than #${jobId}`;
    case 'less-style':
      return `less style than #${jobId}`;
    case 'colours':
      return job.options.preserveColors ? `#${jobId} in my colours` : `#${jobId} in the painting’s colours`;
    case 'larger':
      return `#${jobId} larger`;
  }
}

export function threadName(job: JobView): string {
  return `Painting #${job.id} · ${styleNames(job)}`.slice(0, 100);
}

/** The custom id of a job's Cancel button: the job and its requester (checked before asking the core). */
export function cancelButtonId(job: Pick<JobView, 'id' | 'requesterId'>): string {
  return `stylize:cancel:${job.id}:${job.requesterId}`;
}

export function parseCancelButtonId(customId: string): { jobId: number; requesterId: string } | undefined {
  const match = /^stylize:cancel:(\d{1,15}):(\d{1,25})$/.exec(customId);
  return match ? { jobId: Number(match[1]), requesterId: match[2]! } : undefined;
}

/** The custom id of a variation button of a finished painting: what to change, the job and its requester. */
export function variationButtonId(kind: VariationKind, job: Pick<JobView, 'id' | 'requesterId'>): string {
  return `stylize:vary:${kind}:${job.id}:${job.requesterId}`;
}

export function parseVariationButtonId(
  customId: string,
): { kind: VariationKind; jobId: number; requesterId: string } | undefined {
  const match = /^stylize:vary:([a-z-]{1,20}):(\d{1,15}):(\d{1,25})$/.exec(customId);
  const kind = VARIATIONS.find((k) => k === match?.[1]);
  return match && kind ? { kind, jobId: Number(match[2]), requesterId: match[3]! } : undefined;
}

/** The label of each variation's button; the colours one says what pressing it does to this painting. */
function variationLabel(kind: VariationKind, job: JobView): string {
  switch (kind) {
    case 'more-style':
      return 'More style';
    case 'less-style':
      return 'Less style';
    case 'colours':
      return job.options.preserveColors ? 'Use the painting’s colours' : 'Keep my colours';
    case 'larger':
      return 'Larger';
  }
}

/**
 * The buttons under a finished painting, in one row (Discord allows five): the variations it offers now
 * (`choices`, from the core's variationChoices), then Timelapse; Delete in a row of its own.
 */
export function finalButtons(
  job: JobView,
  choices: readonly VariationKind[],
): APIActionRowComponent<APIButtonComponent>[] {
  const variations = choices.map(
    (kind): APIButtonComponent => ({
      type: ComponentType.Button,
      style: ButtonStyle.Secondary,
      label: variationLabel(kind, job),
      custom_id: variationButtonId(kind, job),
    }),
  );
  return [
    { type: ComponentType.ActionRow, components: [...variations, timelapseButton(job.id)] },
    deleteRow(job),
  ];
}

function cancelRow(job: JobView): APIActionRowComponent<APIButtonComponent>[] {
  return [
    {
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.Button,
          style: ButtonStyle.Danger,
          label: 'Cancel',
          custom_id: cancelButtonId(job),
        },
      ],
    },
  ];
}

function waiting(position: number | null, etaMs: number | null, now: number): string {
  const eta = etaMs === null ? '' : `, ready ${timestamp(now + etaMs)}`;
  return position === null ? `Starting now${eta}.` : `Queued: position ${position} in the queue${eta}.`;
}

/** The command's reply once the job is accepted. */
export function queuedReply(
  job: JobView,
  standing: { position: number | null; etaMs: number | null },
  now: number,
): MessageSpec {
  return {
    content: `<@${job.requesterId}>'s ${lowerFirst(summary(job))}\n${waiting(standing.position, standing.etaMs, now)}`,
    components: [],
  };
}

/** The progress message before the job starts: its place in the queue, and the Cancel button. */
export function progressQueued(
  job: JobView,
  standing: { position: number | null; etaMs: number | null },
  now: number,
): MessageSpec {
  return {
    content: `${summary(job)}\n${waiting(standing.position, standing.etaMs, now)}`,
    components: cancelRow(job),
  };
}

/** The progress message while the job runs: iteration, ETA and the latest preview. */
export function progressRunning(job: JobView, progress: JobProgress, now: number): MessageSpec {
  const { iteration, iterations, etaMs } = progress;
  const percent = Math.floor((100 * iteration) / Math.max(1, iterations));
  const eta = etaMs === null ? '' : ` · ready ${timestamp(now + etaMs)}`;
  const state = progress.converged
    ? `${convergedEarly(iteration, job.options.iterations)}: finishing`
    : `iteration ${iteration}/${iterations} (${percent}%)${eta}`;
  const spec: MessageSpec = {
    content: `${summary(job)}\nPainting: ${state}`,
    components: cancelRow(job),
  };
  if (progress.preview) {
    const ext = progress.preview.mime === 'image/png' ? 'png' : 'jpg';
    spec.files = [
      { name: `preview-${job.id}.${ext}`, data: progress.preview.bytes, contentType: progress.preview.mime },
    ];
  }
  return spec;
}

/** The progress message once the job has ended: no more button. */
export function progressEnded(job: JobView, how: 'done' | 'failed' | 'cancelled'): MessageSpec {
  const words = { done: 'done ✅', failed: 'failed ❌', cancelled: 'cancelled' }[how];
  const early =
    how === 'done' && job.converged ? ` (${convergedEarly(job.iteration, job.options.iterations)})` : '';
  return { content: `${summary(job)}\n${capitalise(words)}${early}.`, components: [] };
}

/** The painting stopped before its ceiling because it had stopped changing. */
const convergedEarly = (iteration: number, ceiling: number) =>
  `converged early, after ${iteration} of up to ${ceiling} iterations`;

/** The final message: the result and the comparison, for the requester, with the buttons of `choices`. */
export function finalMessage(
  job: JobView,
  files: FileSpec[],
  choices: readonly VariationKind[],
): MessageSpec {
  return {
    content:
      `<@${job.requesterId}> here is your painting #${job.id} in the style of **${styleNames(job)}**, ` +
      'and your photo, the painting and the result side by side.',
    files,
    components: finalButtons(job, choices),
    mentionUsers: [job.requesterId],
  };
}

// ------------------------------------------------------------------------------------------- timelapse

/** The custom id of a finished job's Timelapse button: anyone in the thread may press it. */
export function timelapseButtonId(jobId: number): string {
  return `stylize:timelapse:${jobId}`;
}

export function parseTimelapseButtonId(customId: string): number | undefined {
  const match = /^stylize:timelapse:(\d{1,15})$/.exec(customId);
  return match ? Number(match[1]) : undefined;
}

function timelapseButton(jobId: number): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label: 'Timelapse',
    custom_id: timelapseButtonId(jobId),
  };
}

/** What the Timelapse button posts where it was pressed (the job's thread): the animation. */
export function timelapseMessage(jobId: number, file: FileSpec): MessageSpec {
  return { content: `Painting #${jobId} from the photo to the result:`, files: [file] };
}

export function replyDone(job: JobView, link: string | null): MessageSpec {
  const where = link ? ` → ${link}` : ': the images are below.';
  return { content: `${summary(job)}\nDone ✅${where}`, components: [] };
}

/** In the thread: what went wrong, for the requester. */
export function failedMessage(job: JobView, message: string): MessageSpec {
  return {
    content: `<@${job.requesterId}> painting #${job.id} failed: ${message}`,
    mentionUsers: [job.requesterId],
  };
}

export function replyFailed(job: JobView, message: string): MessageSpec {
  return { content: `${summary(job)}\nFailed ❌: ${message}`, components: [] };
}

export function cancelledMessage(job: JobView): MessageSpec {
  return { content: `Painting #${job.id} was cancelled.` };
}

export function replyCancelled(job: JobView): MessageSpec {
  return { content: `${summary(job)}\nCancelled.`, components: [] };
}

// ------------------------------------------------------------------------------------------- errors

/**
 * The member's message for any error: a member-facing error's own words (a quota's with its reset time as a
 * Discord timestamp), the general sentence for an operator's problem or an internal fault.
 */
export function errorMessage(error: unknown): string {
  const reply = memberReply(error);
  const { resetsAt, max } = reply.context;
  if (!(resetsAt instanceof Date)) return reply.text;
  return `${reply.text} The limit (${String(max)}) resets ${timestamp(resetsAt.getTime())}.`;
}

export const messages = {
  guildOnly:
    'I work in servers only: a painting, its queue and its limits belong to a server. ' +
    'Use /stylize in a server we share.',
  chooseStyle:
    'Choose a style: a preset in `style` (start typing a painting, an artist or a name) or your own `style_image`.',
  oneStyle: 'Give either a preset in `style` or your own `style_image`, not both.',
  notAdmin: 'Only members with the **Manage Server** permission can use /stylize-admin.',
  notYourJob: 'Only the member who asked for this painting, or an admin, can cancel it.',
  notYourPainting: 'Only the member who asked for this painting, or an admin, can ask for a variation of it.',
  noLimitsGiven: 'Give at least one limit to change.',
  badJobId: 'A job id is a number, as shown in the messages (e.g. 12 or #12).',
  timelapseTooLarge: 'This timelapse is larger than I can upload in this server.',
  progressMoved:
    'Discord no longer lets me edit the message above (it is over an hour old): this painting’s progress ' +
    'continues in the next message.',
} as const;

// -------------------------------------------------------------------------------------------- admin

export function limitsMessage(report: LimitsReport, changed = false): MessageSpec {
  const lines = report.limits.map(
    (l) =>
      `\`${LIMIT_RULES[l.name].key}\` ${LIMIT_OPTIONS[l.name]}: **${l.value}**${l.isDefault ? ' (default)' : ''}`,
  );
  const title = changed ? 'Limits updated. This server now has:' : "This server's limits:";
  const today = `Paintings today: ${report.usedToday}; the daily counts start again ${timestamp(report.dailyResetsAt.getTime())}.`;
  return { content: [title, ...lines, today].join('\n') };
}

export function queueMessage(entries: QueueEntry[]): MessageSpec {
  if (entries.length === 0) return { content: 'Nothing is queued or running on this server.' };
  const lines = entries.map((e) =>
    e.status === 'running'
      ? `#${e.jobId} · <@${e.requesterId}> · painting, iteration ${e.iteration}/${e.iterations}`
      : `#${e.jobId} · <@${e.requesterId}> · waiting${e.position === null ? '' : `, position ${e.position}`}`,
  );
  return { content: clipLines(['Queue on this server:', ...lines]) };
}

// ------------------------------------------------------------------------------------------ presets

/** Autocomplete choices for a preset: matching what was typed by title, artist or name; Discord shows 25. */
export function presetChoices(
  presets: readonly PresetInfo[],
  typed: string,
): APIApplicationCommandOptionChoice<string>[] {
  return matchPresets(presets, typed, 25).map((p) => ({ name: p.label.slice(0, 100), value: p.name }));
}

/**
 * Autocomplete choices for `size`: the number typed when the server allows it, then the offered sizes it
 * allows (see sizesAllowed), the default marked.
 */
export function sizeChoices(
  limits: RequestLimits,
  defaultSize: number,
  typed: string,
): APIApplicationCommandOptionChoice<number>[] {
  const allowed = sizesAllowed(
    OFFERED_SIZES.map((s) => s.px),
    limits.maxSize,
  );
  const wanted = typedWithin(typed, SIZE.min, limits.maxSize);
  const choices =
    wanted === undefined || allowed.includes(wanted) ? [] : [{ name: `${wanted} px`, value: wanted }];
  for (const px of allowed) {
    const offered = OFFERED_SIZES.find((s) => s.px === px);
    const name = offered ? `${offered.label} (${px} px)` : `The largest this server allows (${px} px)`;
    choices.push({ name: px === defaultSize ? `${name}, the default` : name, value: px });
  }
  return choices;
}

/** Autocomplete choices for `iterations`: the number typed when the server allows it, the default, the most. */
export function iterationChoices(
  limits: RequestLimits,
  defaultIterations: number,
  typed: string,
): APIApplicationCommandOptionChoice<number>[] {
  const choices: APIApplicationCommandOptionChoice<number>[] = [];
  const add = (value: number, note = '') => {
    if (!choices.some((c) => c.value === value))
      choices.push({ name: `${plural(value, 'iteration')}${note}`, value });
  };
  const wanted = typedWithin(typed, 1, limits.maxIterations);
  if (wanted !== undefined) add(wanted);
  add(defaultIterations, ' (the default)');
  add(limits.maxIterations, ' (the most this server allows)');
  return choices;
}

/** The whole number typed, when it lies in [min, max]. */
function typedWithin(typed: string, min: number, max: number): number | undefined {
  const value = Number(typed.trim());
  return typed.trim() !== '' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

/** /stylize-presets: the paintings as members see them (`labels`); the first `shown` are pictured. */
export function presetsMessage(labels: readonly string[], shown: number): MessageSpec {
  if (labels.length === 0) {
    return { content: 'There are no presets yet. Admins can add some with `/stylize-admin preset add`.' };
  }
  const more = labels.length > shown ? ` (the first ${shown} are pictured)` : '';
  return {
    content: clipLines([
      `**${plural(labels.length, 'preset painting')}**${more}: use one with \`/stylize style:\` ` +
        '(start typing a painting, an artist or a name)',
      ...labels.map((label) => `• ${label}`),
    ]),
  };
}

// ------------------------------------------------------------------------------------------ history

/**
 * /stylize-history: one line per painting, newest first, each with one link: to the message that shows the
 * painting while the bot keeps it (it is in the thread, or is the reply when there is none), otherwise to the
 * job's thread (or its reply, or its channel, for a job shown nowhere else).
 */
export function historyMessage(entries: readonly HistoryEntry[]): MessageSpec {
  if (entries.length === 0) {
    return { content: 'You have no paintings on this server yet. Start one with `/stylize`.' };
  }
  const lines = entries.map((entry) => {
    const { job, resultKept } = entry;
    const refs = decodeRefs('discord', job.chatRefs);
    const thread = job.threadId
      ? channelLink(job.server, job.threadId)
      : refs
        ? messageLink(job.server, refs.channelId, refs.replyId)
        : channelLink(job.server, job.channelId);
    const result = resultKept && refs?.result;
    const link = result
      ? `[see the painting](${messageLink(job.server, result.channelId, result.messageId)})`
      : `[open the thread](${thread})`;
    const state = historyState(entry, (moment) => timestamp(moment.getTime()));
    return `• #${job.id} · **${styleNames(job)}** · asked ${timestamp(job.createdAt.getTime())} · ${state} · ${link}`;
  });
  const order = entries.length > 1 ? ', newest first' : '';
  return {
    content: clipLines([`Your last ${plural(entries.length, 'painting')} on this server${order}:`, ...lines]),
  };
}

// ------------------------------------------------------------------------------------------ helpers

function clip(text: string): string {
  return text.length <= MAX_CONTENT ? text : `${text.slice(0, MAX_CONTENT - 1)}…`;
}

function clipLines(lines: string[]): string {
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const rest = lines.length - i;
    if (length + line.length + 1 > MAX_CONTENT - 20) {
      out.push(`… and ${rest} more`);
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
