/**
 * A job's messages: the command's reply and the thread's name when it is accepted, its progress (queued,
 * painting, ended), the final message with the painting, and what the thread is told when it fails or is
 * cancelled. Shared by the commands that start a job and by the job events (events.ts). Pure: job states in,
 * message payloads out.
 */
import { type JobProgress, type JobView, plural, type VariationKind } from '../rules/index.ts';
import { cancelRow, finalButtons } from './buttons.ts';
import { type FileSpec, type MessageSpec, timestamp } from './message-spec.ts';

// The job events write these through `toRest` with the types of this module, from one import.
export { type MessageSpec, toRest } from './message-spec.ts';

export const messages = {
  progressMoved:
    'Discord no longer lets me edit the message above (it is over an hour old): this painting’s progress ' +
    'continues in the next message.',
} as const;

/** The paintings a job is in the style of: "Starry Night + The Scream". */
export const styleNames = (job: Pick<JobView, 'styles'>) => job.styles.map((s) => s.name).join(' + ');

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

/** A job's place in the queue and its expected end. */
export interface Standing {
  position: number | null;
  etaMs: number | null;
}

function waiting({ position, etaMs }: Standing, now: number): string {
  const eta = etaMs === null ? '' : `, ready ${timestamp(now + etaMs)}`;
  return position === null ? `Starting now${eta}.` : `Queued: position ${position} in the queue${eta}.`;
}

/** The command's reply once the job is accepted. */
export function queuedReply(job: JobView, standing: Standing, now: number): MessageSpec {
  return {
    content: `<@${job.requesterId}>'s ${lowerFirst(summary(job))}\n${waiting(standing, now)}`,
    components: [],
  };
}

/** The progress message before the job starts: its place in the queue, and the Cancel button. */
export function progressQueued(job: JobView, standing: Standing, now: number): MessageSpec {
  return { content: `${summary(job)}\n${waiting(standing, now)}`, components: cancelRow(job) };
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

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
