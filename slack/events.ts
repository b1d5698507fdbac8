/**
 * The core's JobEvents for Slack jobs: one progress message per job in the job's thread, edited as the job
 * advances, then the two images posted in the thread (final-delivery.ts).
 *
 * Nothing here waits long on the notifier's behalf: progress is throttled per job (at most one chat.update per
 * `progressEveryMs`, the latest state winning: see progress-edits.ts) and written in the background; the end of a
 * job waits for that job's progress write under way, then is written before the call returns. Progress edits are
 * limited per workspace below Slack's rate for chat.update, which leaves room for the updates that end a job
 * (they do not wait there).
 *
 * Previews: editing the progress message cannot show a new image without a public image URL, and a file per
 * progress update would flood the thread, so the preview is posted in the thread only `previewsPerJob` times
 * per job, evenly spaced (one at halfway by default); the progress message shows a bar, the iteration and the
 * time left.
 */
import { progressEdits } from '../chat/progress-edits.ts';
import type { SlackRefs } from '../chat/refs.ts';
import { Setups } from '../chat/setups.ts';
import { type WriteLimiter, type WriteRate, writeLimiter } from '../chat/write-limiter.ts';
import type { Logger } from '../lib/log.ts';
import type { JobEvents, JobProgress, JobView, VariationKind } from '../rules/index.ts';
import type { SlackConfig } from './config.ts';
import { slackError } from './errors.ts';
import { deliverCancellation, deliverFailure, deliverPainting } from './final-delivery.ts';
import { imageName, type JobWrites, logFields, refsFor, saveRefs, threadOf, update } from './job-writes.ts';
import { previewComment, progressMessage } from './render.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * Progress edits (chat.update) per workspace: Slack rates chat.update Tier 3, 50+ a minute per app and workspace,
 * with sporadic bursts welcome (https://api.slack.com/apis/rate-limits); edits take 40, the rest is left to jobs'
 * ends. Without this, 20 live jobs make about 400 a minute.
 */
export const UPDATE_RATE: WriteRate = { intervalCap: 40, interval: 60_000 };

export interface SlackJobEvents extends JobEvents {
  /**
   * Called by the /stylize flow once it has posted a request message and before it submits the job that will
   * have that message as its thread: events of the job that arrive before its progress message is posted and
   * recorded wait for it. The flow resolves it with the refs, or with undefined when it gave up (no job, or the
   * thread could not be posted: the events then post the progress message themselves).
   */
  expect(threadTs: string): { resolve(refs: SlackRefs | undefined): void };
  /** Stops the timers and waits for the writes under way. */
  stop(): Promise<void>;
}

export interface SlackEventsDeps {
  /** Records the refs in the job (setChatRefs), so that a restarted bot finds its messages. */
  saveRefs(job: JobView, refs: SlackRefs): Promise<void>;
  client: SlackClient;
  config: Pick<SlackConfig, 'progressEveryMs' | 'previewsPerJob'>;
  log: Logger;
  /** Default: one at {@link UPDATE_RATE} per workspace. */
  limiter?: WriteLimiter;
  /** The variations a finished painting offers now (the core's variationChoices): its buttons. None without. */
  variations?: (job: JobView) => Promise<VariationKind[]>;
}

export function createSlackEvents(deps: SlackEventsDeps): SlackJobEvents {
  const w: JobWrites = {
    client: deps.client,
    config: deps.config,
    log: deps.log,
    limiter: deps.limiter ?? writeLimiter(UPDATE_RATE),
    setups: new Setups(),
    known: new Map(),
    store: deps.saveRefs,
    variations: deps.variations,
    botIdentity: botIdentityOnce(deps.client),
  };
  const edits = progressEdits<{ job: JobView; progress: JobProgress }>({
    intervalMs: deps.config.progressEveryMs,
    edit: (_jobId, { job, progress }, ended) => writeProgress(w, job, progress, ended),
  });
  /** Ends being written, for stop() to wait for. */
  const ends = new Set<Promise<void>>();
  let stopped = false;

  /** The end of a job: its progress write under way first, pending ones dropped, then `deliver`, once. */
  const ending =
    <A extends unknown[]>(
      what: string,
      deliver: (w: JobWrites, job: JobView, refs: SlackRefs, ...args: A) => Promise<void>,
    ) =>
    async (job: JobView, ...args: A): Promise<void> => {
      if (stopped || !(await edits.end(job.id))) return;
      const writing = endJob(w, job, what, (refs) => deliver(w, job, refs, ...args));
      ends.add(writing);
      await writing;
      ends.delete(writing);
    };

  return {
    expect(threadTs) {
      const setup = w.setups.begin(threadTs);
      return { resolve: (refs) => setup.finish(refs) };
    },
    async progress(job, progress) {
      edits.report(job.id, { job, progress });
    },
    completed: ending('post the result', deliverPainting),
    failed: ending('report the failure', deliverFailure),
    cancelled: ending('report the cancellation', deliverCancellation),
    async stop() {
      stopped = true;
      await edits.stop();
      await Promise.allSettled([...ends]);
    },
  };
}

/** Writes a job's end unless it was written already; a failure is logged. The job is then forgotten here. */
async function endJob(w: JobWrites, job: JobView, what: string, write: (refs: SlackRefs) => Promise<void>) {
  try {
    const refs = await refsFor(w, job);
    if (!refs.done) await write(refs);
  } catch (error) {
    w.log.error({ ...logFields(job), err: slackError(error) }, `slack: could not ${what}`);
  } finally {
    w.known.delete(job.id);
  }
}

/** One progress write: the progress message updated, and a preview posted where one is due. */
async function writeProgress(
  w: JobWrites,
  job: JobView,
  progress: JobProgress,
  ended: AbortSignal,
): Promise<void> {
  try {
    const refs = await refsFor(w, job);
    if (refs.done || ended.aborted) return;
    await update(w, job, refs.progressTs, progressMessage(job, progress), ended);
    await postPreview(w, job, refs, progress);
  } catch (error) {
    // An edit the job's end overtook is simply not made.
    if (!ended.aborted) {
      w.log.error(
        { ...logFields(job), err: slackError(error) },
        'slack: could not update the progress message',
      );
    }
  }
}

/** The preview in the thread, `previewsPerJob` times per job, evenly spaced. */
async function postPreview(
  w: JobWrites,
  job: JobView,
  refs: SlackRefs,
  progress: JobProgress,
): Promise<void> {
  const { previewsPerJob } = w.config;
  const posted = refs.previews ?? 0;
  const due = Math.floor((progress.iteration / Math.max(1, progress.iterations)) * (previewsPerJob + 1));
  if (!progress.preview || posted >= previewsPerJob || due <= posted) return;
  // Recorded first: a bot killed after Slack accepted the upload must not upload it again at its restart.
  await saveRefs(w, job, { ...refs, previews: Math.max(posted + 1, Math.min(due, previewsPerJob)) });
  await w.client.files.uploadV2({
    channel_id: job.channelId,
    thread_ts: threadOf(job, refs),
    initial_comment: previewComment(job, progress),
    file_uploads: [
      { file: progress.preview.bytes, filename: imageName(`preview-${job.id}`, progress.preview) },
    ],
  });
}

/** Who the bot is (auth.test), asked once (again after a failure): its messages are told apart by it. */
function botIdentityOnce(client: SlackClient): JobWrites['botIdentity'] {
  let me: ReturnType<JobWrites['botIdentity']> | undefined;
  return () => {
    me ??= client.auth.test().then((who) => ({ userId: who.user_id, botId: who.bot_id }));
    me.catch(() => {
      me = undefined;
    });
    return me;
  };
}
