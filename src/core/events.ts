import type { StoredImage } from './image-store.ts';
import type { JobView } from './jobs.ts';

/**
 * The one interface through which the chat adapters (src/discord, src/slack) hear about jobs. The core's
 * notifier calls it with the latest state of each job that changed; platform code renders it (edit the
 * progress message in the thread, post the two final images, tell the member what went wrong).
 * Each state is passed on at most once, also across bot restarts (see notifier.ts): a call that throws, or
 * that a dying bot never finishes, is not repeated; progress is superseded by the next one anyway.
 */
export interface JobEvents {
  /** The job started (iteration 0) or advanced; `preview` is the picture as it is now. */
  progress(job: JobView, progress: JobProgress): Promise<void>;
  completed(job: JobView, images: ResultImages): Promise<void>;
  /** `message` is for the member, in plain words. */
  failed(job: JobView, message: string): Promise<void>;
  cancelled(job: JobView): Promise<void>;
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
