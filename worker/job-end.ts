import { type Core, endJob, ImageTooLargeError, releaseJob } from '../jobs/worker-api.ts';
import type { Logger } from '../lib/log.ts';
import { memberReply } from '../lib/member-error.ts';
import { jobFailures } from '../lib/metrics.ts';
import type { ActiveJob } from './context.ts';

const GENERIC_FAILURE = 'Something went wrong while painting this; please try again.';

/**
 * Ends a job that threw or was stopped, by why it stopped: cancelled (ended so), lost to another worker (left
 * to it), put back in the queue on shutdown, or else failed with a sentence for its member. Returns the
 * outcome, for the duration histogram.
 */
export async function finishStopped(
  db: Core['db'],
  job: ActiveJob,
  error: unknown,
  jobLog: Logger,
): Promise<'cancelled' | 'lost' | 'released' | 'failed'> {
  const now = new Date();
  switch (job.controller.signal.aborted ? job.reason : undefined) {
    case 'cancel':
      await endJob(db, job.lease, { status: 'cancelled' }, now);
      jobLog.info('job cancelled');
      return 'cancelled';
    case 'lost':
      jobLog.warn('job was taken over by another worker; stopped');
      return 'lost';
    case 'shutdown':
      await releaseJob(db, job.lease);
      jobLog.info('worker stopping; job put back in the queue');
      return 'released';
    default: {
      const message = userMessage(error);
      // The operator's problems and ours are errors to look at; a member's input is only worth a line.
      if (memberReply(error).log) jobLog.error({ err: error }, 'job failed');
      else jobLog.info({ err: error }, 'job failed');
      jobFailures.inc({ reason: failureClass(error) });
      await endJob(db, job.lease, { status: 'failed', error: message }, now);
      return 'failed';
    }
  }
}

/**
 * The reason class of a failure, for the failures counter: the member's input (`user`), the operator's setup
 * (`setup`: weights, backend), a too-large result, or a fault of ours. The first three fail the same way however
 * often they are tried, and none is tried again: a failed job ends, refunded.
 */
function failureClass(error: unknown): 'user' | 'setup' | 'too-large' | 'internal' {
  if (error instanceof ImageTooLargeError) return 'too-large';
  const { audience } = memberReply(error);
  return audience === 'internal' ? 'internal' : audience === 'operator' ? 'setup' : 'user';
}

/**
 * What the member reads when their job fails, through the one member-error base: their own mistake in their
 * words, the operator's as the general sentence for a setup problem (its cause in the log), anything else in
 * general words.
 */
function userMessage(error: unknown): string {
  if (error instanceof ImageTooLargeError) {
    return 'The painting came out larger than this bot can store; please ask for a smaller size.';
  }
  const reply = memberReply(error);
  return reply.audience === 'internal' ? GENERIC_FAILURE : reply.text;
}
