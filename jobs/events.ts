import type { StoredImage } from './image-store.ts';
import type { JobView } from './jobs.ts';

/**
 * The one interface through which the chat adapters (discord, slack) hear about jobs. The core's
 * notifier calls the adapter of the job's platform with the latest state of each job that changed; platform code
 * renders it (edit the progress message in the thread, post the two final images, tell the member what went
 * wrong). A job's calls come one at a time, in order; different jobs' come concurrently.
 *
 * Progress is passed on at most once per revision (a call that throws is not repeated: the next one supersedes
 * it). A final state (completed, failed, cancelled) is posted once: the notifier records that it is being
 * posted, calls the adapter, and records that it was; one left unfinished (the bot died mid-post, or could not
 * record it) is passed on again, with `resumed` set, so that the adapter looks for what it already posted before
 * posting (see notifier.ts).
 */
export interface JobEvents {
  /** The job started (iteration 0) or advanced; `preview` is the picture as it is now. */
  progress(job: JobView, progress: JobProgress): Promise<void>;
  completed(job: JobView, images: ResultImages, delivery?: FinalDelivery): Promise<void>;
  /** `message` is for the member, in plain words. */
  failed(job: JobView, message: string, delivery?: FinalDelivery): Promise<void>;
  cancelled(job: JobView, delivery?: FinalDelivery): Promise<void>;
}

/** How a final state reaches the adapter (left out: a first delivery). */
export interface FinalDelivery {
  /**
   * An earlier delivery of this state may have posted some or all of it: check the job's thread before posting
   * (what is there stays; what is missing is posted), and make the edits again (they are idempotent).
   */
  resumed: boolean;
}

export interface JobProgress {
  iteration: number;
  iterations: number;
  loss: number | null;
  /** Until the painting is done, as the worker estimates it; null before the first iteration. */
  etaMs: number | null;
  preview: StoredImage | undefined;
  /** The painting stopped before its ceiling because it had converged (it is being finished). */
  converged?: boolean | undefined;
}

export interface ResultImages {
  result: StoredImage;
  /** Photo, painting(s) and result side by side, labelled. */
  comparison: StoredImage;
}
