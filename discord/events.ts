/**
 * The core's JobEvents for Discord jobs: the progress message edited in place (at most once every
 * `progressEditMs` per job, only the latest state, never holding up the notifier: see progress-edits.ts), and at
 * the end the final messages (final-delivery.ts). Progress edits go through a per-channel limiter below
 * Discord's rate, which leaves room for the writes that end a job (they do not wait there). Every write goes
 * through the REST API with the bot token, by the ids stored with the job (job-writes.ts).
 *
 * Discord refuses edits of messages over an hour old past a few (30046), which a job that waited long in the queue
 * meets: its progress then goes on in a new message in the same place, announced once, recorded with the job; a
 * final state that would have been an edit of such a message is posted instead.
 */
import type { REST } from '@discordjs/rest';
import { progressEdits } from '../chat/progress-edits.ts';
import type { DiscordRefs } from '../chat/refs.ts';
import type { Setups } from '../chat/setups.ts';
import { type WriteLimiter, type WriteRate, writeLimiter } from '../chat/write-limiter.ts';
import type { Logger } from '../lib/log.ts';
import type { Core, JobEvents, JobProgress, JobView } from '../rules/index.ts';
import { safeError } from './errors.ts';
import { deliverCancellation, deliverFailure, deliverPainting } from './final-delivery.ts';
import * as render from './job-messages.ts';
import {
  botIdOnce,
  edit,
  type JobWrites,
  logFields,
  recordRefs,
  refsFor,
  send,
  tooOldToEdit,
} from './job-writes.ts';

export interface DiscordEvents extends JobEvents {
  /** Stops editing: pending progress edits are dropped, edits and posts under way are waited for. */
  stop(): Promise<void>;
}

export interface EventsDeps {
  core: Core;
  rest: REST;
  log: Logger;
  progressEditMs: number;
  /** The jobs this process is showing (reply, thread, progress message), whose ids are not stored yet. */
  setups: Setups<number, DiscordRefs>;
  /** Default: one at {@link CHANNEL_RATE} per channel. */
  limiter?: WriteLimiter;
}

/**
 * Progress edits per channel: Discord's per-channel message bucket allows about 5 writes per 5 s (its headers say
 * so at run time); edits take 4, the fifth is left to a job's end. discord.js still waits out any 429 it meets;
 * this keeps the bot from meeting them when many jobs share a channel.
 */
export const CHANNEL_RATE: WriteRate = { intervalCap: 4, interval: 5_000 };

export function discordEvents(deps: EventsDeps): DiscordEvents {
  const stopping = new AbortController();
  const w: JobWrites = {
    core: deps.core,
    rest: deps.rest,
    log: deps.log,
    setups: deps.setups,
    limiter: deps.limiter ?? writeLimiter(CHANNEL_RATE),
    movedProgress: new Map(),
    stopping: stopping.signal,
    botId: botIdOnce(deps.rest),
  };
  const edits = progressEdits<{ job: JobView; progress: JobProgress }>({
    intervalMs: deps.progressEditMs,
    edit: (_jobId, { job, progress }, ended) => editProgress(w, job, progress, ended),
  });
  const ends = new Set<Promise<unknown>>();

  /** A job's end: its progress edits ended first (none after it), waited for by stop(); none once stopped. */
  const ending =
    <A extends unknown[]>(
      deliver: (w: JobWrites, job: JobView, refs: DiscordRefs, ...args: A) => Promise<void>,
    ) =>
    async (job: JobView, ...args: A): Promise<void> => {
      if (stopping.signal.aborted) return;
      const delivering = (async () => {
        if (!(await edits.end(job.id))) return;
        const refs = await refsFor(w, job);
        if (refs) await deliver(w, job, refs, ...args);
        else w.log.warn(logFields(job), 'discord: no messages recorded for this job; its end is not shown');
      })();
      ends.add(delivering);
      await delivering.finally(() => ends.delete(delivering));
    };

  return {
    async progress(job, progress) {
      edits.report(job.id, { job, progress });
    },
    completed: ending(deliverPainting),
    failed: ending(deliverFailure),
    cancelled: ending(deliverCancellation),
    async stop() {
      stopping.abort();
      await edits.stop();
      await Promise.allSettled([...ends]);
    },
  };
}

/** One progress edit; where the message is too old to edit, the progress moves to a new one. */
async function editProgress(
  w: JobWrites,
  job: JobView,
  progress: JobProgress,
  ended: AbortSignal,
): Promise<void> {
  const refs = await refsFor(w, job);
  if (!refs || ended.aborted) return;
  const spec = render.progressRunning(job, progress, Date.now());
  await edit(w, refs.progressChannelId, refs.progressId, spec, { ended })
    .catch((error: unknown) => {
      if (tooOldToEdit(error) && !ended.aborted) return moveProgress(w, job, refs, spec);
      throw error;
    })
    .catch((error: unknown) => {
      // An edit the job's end overtook is simply not made.
      if (!ended.aborted)
        w.log.warn(
          { ...logFields(job), err: safeError(error) },
          'discord: could not edit the progress message',
        );
    });
}

/** The progress goes on in a new message below a line that says why; recorded for a restarted bot. */
async function moveProgress(
  w: JobWrites,
  job: JobView,
  refs: DiscordRefs,
  spec: render.MessageSpec,
): Promise<void> {
  await send(w, refs.progressChannelId, { content: render.messages.progressMoved });
  const posted = await send(w, refs.progressChannelId, spec);
  w.movedProgress.set(job.id, posted.id);
  w.log.info(
    logFields(job),
    'discord: the progress message is over an hour old; progress goes on in a new one',
  );
  await recordRefs(w, job, { ...refs, progressId: posted.id }, 'record the new progress message');
}
