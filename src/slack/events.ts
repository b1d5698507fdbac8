import type { JobEvents, JobProgress, JobView, ResultImages, StoredImage } from '../core/index.ts';
import type { Logger } from '../log.ts';
import type { SlackConfig } from './config.ts';
import {
  cancelledMessage,
  completedMessage,
  failedMessage,
  failedReply,
  previewComment,
  progressMessage,
  queuedMessage,
  resultComment,
} from './render.ts';
import type { SlackClient } from './slack-types.ts';

/**
 * The core's JobEvents for Slack jobs: one progress message per job in the job's thread, edited as the job
 * advances, then the two images posted in the thread. What the bot needs to find its messages again after a
 * restart is in the job (its thread is the request message; chatRefs holds the progress message's ts and what
 * has been posted), so nothing is kept in memory that a restart would lose.
 *
 * The notifier calls these one job at a time, so nothing here waits long on its behalf: progress is throttled
 * per job (at most one chat.update per `progressEveryMs`, the latest state winning) and written in the
 * background; the end of a job waits for that job's earlier writes, then is written before the call returns,
 * so a bot that dies meanwhile delivers it again at its next start.
 *
 * Previews: editing the progress message cannot show a new image without a public image URL, and a file per
 * progress update would flood the thread, so the preview is posted in the thread only `previewsPerJob` times
 * per job, evenly spaced (one at halfway by default); the progress message shows a bar, the iteration and the
 * time left.
 */
export interface SlackRefs {
  /** The progress message in the job's thread. */
  progressTs: string;
  /** Previews already posted in the thread. */
  previews?: number;
  /** The result has been posted (the event is not acted on twice). */
  done?: boolean;
}

export function parseRefs(chatRefs: string | null): SlackRefs | undefined {
  if (!chatRefs) return undefined;
  try {
    const raw = JSON.parse(chatRefs) as Partial<SlackRefs>;
    return typeof raw.progressTs === 'string' ? (raw as SlackRefs) : undefined;
  } catch {
    return undefined;
  }
}

interface JobState {
  /** This job's Slack writes, one after another. */
  chain: Promise<void>;
  refs?: SlackRefs;
  latest?: { job: JobView; progress: JobProgress };
  timer?: NodeJS.Timeout;
  lastWriteAt: number;
  ended: boolean;
}

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

export function createSlackEvents(deps: {
  /** Records the refs in the job (setChatRefs), so that a restarted bot finds its messages. */
  saveRefs(job: JobView, refs: SlackRefs): Promise<void>;
  client: SlackClient;
  config: Pick<SlackConfig, 'progressEveryMs' | 'previewsPerJob'>;
  log: Logger;
}): SlackJobEvents {
  const { client, config, log } = deps;
  const jobs = new Map<number, JobState>();
  /** By thread ts: the progress messages the /stylize flow is posting. */
  const expected = new Map<string, Promise<SlackRefs | undefined>>();
  let stopped = false;

  const fields = (job: JobView) => ({ jobId: job.id, server: job.server, platform: 'slack' });

  function state(jobId: number): JobState {
    let s = jobs.get(jobId);
    if (!s) {
      s = { chain: Promise.resolve(), lastWriteAt: 0, ended: false };
      jobs.set(jobId, s);
    }
    return s;
  }

  /** Runs `write` after the job's earlier writes; its failure is logged, and does not stop later writes. */
  function enqueue(job: JobView, what: string, write: () => Promise<void>): Promise<void> {
    const s = state(job.id);
    const next = s.chain.then(write).catch((error: unknown) => {
      log.error({ ...fields(job), err: slackError(error) }, `slack: could not ${what}`);
    });
    s.chain = next;
    return next;
  }

  async function saveRefs(job: JobView, refs: SlackRefs): Promise<void> {
    state(job.id).refs = refs;
    await deps.saveRefs(job, refs);
  }

  /** The job's progress message: known, recorded, being posted by /stylize, or (lost) posted anew. */
  async function refsFor(job: JobView): Promise<SlackRefs> {
    const s = state(job.id);
    if (s.refs) return s.refs;
    const pending = job.threadId ? expected.get(job.threadId) : undefined;
    const recorded = parseRefs(job.chatRefs) ?? (await pending);
    if (recorded) {
      s.refs = recorded;
      return recorded;
    }
    const message = queuedMessage(job, null, null);
    const posted = await client.chat.postMessage({
      channel: job.channelId,
      ...(job.threadId ? { thread_ts: job.threadId } : {}),
      ...message,
    });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    const refs = { progressTs: posted.ts };
    await saveRefs(job, refs);
    return refs;
  }

  const threadOf = (job: JobView, refs: SlackRefs) => job.threadId ?? refs.progressTs;

  async function writeProgress(job: JobView, progress: JobProgress): Promise<void> {
    const refs = await refsFor(job);
    if (refs.done) return;
    await client.chat.update({
      channel: job.channelId,
      ts: refs.progressTs,
      ...progressMessage(job, progress),
    });
    const posted = refs.previews ?? 0;
    const due = Math.floor(
      (progress.iteration / Math.max(1, progress.iterations)) * (config.previewsPerJob + 1),
    );
    if (progress.preview && posted < config.previewsPerJob && due > posted) {
      // Recorded first: a bot killed after Slack accepted the upload must not upload it again at its restart.
      await saveRefs(job, { ...refs, previews: Math.max(posted + 1, Math.min(due, config.previewsPerJob)) });
      await client.files.uploadV2({
        channel_id: job.channelId,
        thread_ts: threadOf(job, refs),
        initial_comment: previewComment(job, progress),
        file_uploads: [
          { file: progress.preview.bytes, filename: imageName(`preview-${job.id}`, progress.preview) },
        ],
      });
    }
  }

  function flush(jobId: number): void {
    const s = jobs.get(jobId);
    if (!s) return;
    s.timer = undefined;
    const latest = s.latest;
    s.latest = undefined;
    if (!latest || s.ended) return;
    s.lastWriteAt = Date.now();
    void enqueue(latest.job, 'update the progress message', () => writeProgress(latest.job, latest.progress));
  }

  /** The end of a job: earlier writes first, pending progress dropped, then `write`; the state is then let go. */
  async function end(job: JobView, what: string, write: (refs: SlackRefs) => Promise<void>): Promise<void> {
    if (job.platform !== 'slack') return;
    const s = state(job.id);
    s.ended = true;
    s.latest = undefined;
    clearTimeout(s.timer);
    await enqueue(job, what, async () => {
      const refs = await refsFor(job);
      if (!refs.done) await write(refs);
    });
    if (jobs.get(job.id) === s && s.latest === undefined) jobs.delete(job.id);
    if (job.threadId) expected.delete(job.threadId);
  }

  return {
    expect(threadTs) {
      let resolve: (refs: SlackRefs | undefined) => void = () => {};
      expected.set(
        threadTs,
        new Promise((r) => {
          resolve = r;
        }),
      );
      return {
        resolve(refs) {
          resolve(refs);
          if (!refs) expected.delete(threadTs);
        },
      };
    },

    async progress(job, progress) {
      if (job.platform !== 'slack' || stopped) return;
      const s = state(job.id);
      if (s.ended) return;
      s.latest = { job, progress };
      if (s.timer) return;
      const wait = Math.max(0, s.lastWriteAt + config.progressEveryMs - Date.now());
      s.timer = setTimeout(() => flush(job.id), wait);
    },

    completed: (job, images) =>
      end(job, 'post the result', async (refs) => {
        await client.files.uploadV2({
          channel_id: job.channelId,
          thread_ts: threadOf(job, refs),
          initial_comment: resultComment(job),
          file_uploads: resultFiles(job, images),
        });
        const done = { ...refs, done: true };
        await saveRefs(job, done);
        await client.chat.update({ channel: job.channelId, ts: refs.progressTs, ...completedMessage(job) });
      }),

    failed: (job, message) =>
      end(job, 'report the failure', async (refs) => {
        await client.chat.update({
          channel: job.channelId,
          ts: refs.progressTs,
          ...failedMessage(job, message),
        });
        await client.chat.postMessage({
          channel: job.channelId,
          thread_ts: threadOf(job, refs),
          text: failedReply(job, message),
        });
        await saveRefs(job, { ...refs, done: true });
      }),

    cancelled: (job) =>
      end(job, 'report the cancellation', async (refs) => {
        await client.chat.update({ channel: job.channelId, ts: refs.progressTs, ...cancelledMessage(job) });
        await saveRefs(job, { ...refs, done: true });
      }),

    async stop() {
      stopped = true;
      for (const s of jobs.values()) clearTimeout(s.timer);
      await Promise.all([...jobs.values()].map((s) => s.chain));
    },
  };
}

function imageName(base: string, image: StoredImage): string {
  return `${base}.${image.mime === 'image/png' ? 'png' : 'jpg'}`;
}

function resultFiles(job: JobView, images: ResultImages) {
  return [
    {
      file: images.result.bytes,
      filename: imageName(`painting-${job.id}`, images.result),
      title: `Job ${job.id}: the painting`,
    },
    {
      file: images.comparison.bytes,
      filename: imageName(`side-by-side-${job.id}`, images.comparison),
      title: `Job ${job.id}: photo, painting and result`,
    },
  ];
}

/** What is worth logging of a Web API error: its code and Slack's error name, never the request. */
export function slackError(error: unknown): { message: string; code?: string; slack?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & { code?: string; data?: { error?: string } };
  return {
    message: e.message,
    ...(e.code ? { code: e.code } : {}),
    ...(e.data?.error ? { slack: e.data.error } : {}),
  };
}
