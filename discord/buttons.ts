/**
 * The buttons of a job's messages: Cancel under its progress; under the finished painting, its variations,
 * Timelapse and Delete. Each custom id carries what its handler needs (discord/components/) to answer without
 * state in the bot: the job, and the requester where only they (or an admin) may press it, checked before
 * asking the core. Pure: data in, payload out.
 */
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  ButtonStyle,
  ComponentType,
} from 'discord-api-types/v10';
import { type JobView, VARIATIONS, type VariationKind } from '../rules/index.ts';

type JobOwner = Pick<JobView, 'id' | 'requesterId'>;

/** A job and its requester, as the Cancel and Delete buttons carry them. */
export interface OwnedJob {
  jobId: number;
  requesterId: string;
}

export const cancelButtonId = (job: JobOwner) => `stylize:cancel:${job.id}:${job.requesterId}`;

export function parseCancelButtonId(customId: string): OwnedJob | undefined {
  const match = /^stylize:cancel:(\d{1,15}):(\d{1,25})$/.exec(customId);
  return match ? { jobId: Number(match[1]), requesterId: match[2]! } : undefined;
}

/** A variation button: what to change, the job and its requester. */
export const variationButtonId = (kind: VariationKind, job: JobOwner) =>
  `stylize:vary:${kind}:${job.id}:${job.requesterId}`;

/** A variation asked of a job, as its button carries it. */
export interface VariationTarget extends OwnedJob {
  kind: VariationKind;
}

export function parseVariationButtonId(customId: string): VariationTarget | undefined {
  const match = /^stylize:vary:([a-z-]{1,20}):(\d{1,15}):(\d{1,25})$/.exec(customId);
  const kind = VARIATIONS.find((k) => k === match?.[1]);
  return match && kind ? { kind, jobId: Number(match[2]), requesterId: match[3]! } : undefined;
}

/** The Timelapse button: anyone in the thread may press it, so it carries the job alone. */
export const timelapseButtonId = (jobId: number) => `stylize:timelapse:${jobId}`;

export function parseTimelapseButtonId(customId: string): number | undefined {
  const match = /^stylize:timelapse:(\d{1,15})$/.exec(customId);
  return match ? Number(match[1]) : undefined;
}

export const deleteButtonId = (job: JobOwner) => `stylize:delete:${job.id}:${job.requesterId}`;

export function parseDeleteButtonId(customId: string): OwnedJob | undefined {
  const match = /^stylize:delete:(\d{1,15}):(\d{1,25})$/.exec(customId);
  return match ? { jobId: Number(match[1]), requesterId: match[2]! } : undefined;
}

const button = (
  style: ButtonStyle.Secondary | ButtonStyle.Danger,
  label: string,
  customId: string,
): APIButtonComponent => ({ type: ComponentType.Button, style, label, custom_id: customId });

const row = (...buttons: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> => ({
  type: ComponentType.ActionRow,
  components: buttons,
});

/** The Cancel button under a job's progress. */
export function cancelRow(job: JobOwner): APIActionRowComponent<APIButtonComponent>[] {
  return [row(button(ButtonStyle.Danger, 'Cancel', cancelButtonId(job)))];
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
  const variations = choices.map((kind) =>
    button(ButtonStyle.Secondary, variationLabel(kind, job), variationButtonId(kind, job)),
  );
  return [
    row(...variations, button(ButtonStyle.Secondary, 'Timelapse', timelapseButtonId(job.id))),
    row(button(ButtonStyle.Danger, 'Delete', deleteButtonId(job))),
  ];
}
