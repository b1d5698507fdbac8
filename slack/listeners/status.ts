import { type JobStatusReport, jobStatus } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { formatDuration, styleList } from '../render.ts';
import { faultText } from './shared.ts';

/** `/stylize status JOB`: where the job stands, or the sentence for what went wrong. */
export async function statusAnswer(deps: SlackDeps, teamId: string, jobId: number): Promise<string> {
  try {
    return statusText(await jobStatus(deps.core, workspace(teamId), jobId));
  } catch (error) {
    return faultText(deps.log, error, { server: teamId }, 'slack: status');
  }
}

/** The answer's text (mrkdwn): the job's place in the queue, its iteration, or how it ended. */
export function statusText(report: JobStatusReport): string {
  const { job } = report;
  const styles = styleList(job.styles);
  switch (job.status) {
    case 'queued': {
      const eta = report.etaMs !== null ? `, done in about ${formatDuration(report.etaMs)}` : '';
      return `Job ${job.id} (${styles}) is #${report.position ?? '?'} in the queue${eta}.`;
    }
    case 'running': {
      const eta = report.etaMs !== null ? `, about ${formatDuration(report.etaMs)} left` : '';
      return `Job ${job.id} (${styles}) is painting: iteration ${job.iteration} of ${job.options.iterations}${eta}.`;
    }
    case 'succeeded':
      return `Job ${job.id} (${styles}) is done.`;
    case 'failed':
      return `Job ${job.id} (${styles}) failed: ${job.error ?? 'unknown error'}`;
    case 'cancelled':
      return `Job ${job.id} (${styles}) was cancelled.`;
  }
}
