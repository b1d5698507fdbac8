import { historyState } from '../../chat/history-state.ts';
import { type HistoryEntry, memberHistory, plural } from '../../rules/index.ts';
import { type SlackDeps, workspace } from '../deps.ts';
import { slackError } from '../errors.ts';
import { localTime, styleList } from '../render.ts';
import type { SlackClient } from '../slack-types.ts';
import { faultText } from './shared.ts';

/**
 * `/stylize history` for this member: their latest paintings in the workspace, each linked to its thread (the
 * permalink of its request message), or the sentence for what went wrong. A link Slack will not give (the
 * message deleted, the bot out of the channel) is left out; the rest of the list still comes.
 */
export async function historyAnswer(
  deps: SlackDeps,
  client: SlackClient,
  teamId: string,
  userId: string,
): Promise<string> {
  try {
    const entries = await memberHistory(deps.core, workspace(teamId), userId);
    return historyText(entries, await threadLinks(deps, client, teamId, entries));
  } catch (error) {
    return faultText(deps.log, error, { server: teamId }, 'slack: history');
  }
}

/** Each painting's thread link by job id (chat.getPermalink, one call per painting, in parallel). */
async function threadLinks(
  deps: SlackDeps,
  client: SlackClient,
  teamId: string,
  entries: readonly HistoryEntry[],
): Promise<Map<number, string>> {
  const links = new Map<number, string>();
  await Promise.all(
    entries.map(async ({ job }) => {
      if (!job.threadId) return;
      try {
        const { permalink } = await client.chat.getPermalink({
          channel: job.channelId,
          message_ts: job.threadId,
        });
        if (permalink) links.set(job.id, permalink);
      } catch (error) {
        deps.log.debug({ jobId: job.id, server: teamId, err: slackError(error) }, 'slack: no permalink');
      }
    }),
  );
  return links;
}

/**
 * The answer's text: one line per painting, newest first, with a link to its thread (where the painting is
 * posted) when `threadLinks` has one for the job, and "(no longer kept)" for a painting whose images retention
 * has deleted.
 */
export function historyText(
  entries: readonly HistoryEntry[],
  threadLinks: ReadonlyMap<number, string>,
): string {
  if (entries.length === 0) return 'You have no paintings in this workspace yet. Start one with `/stylize`.';
  const lines = entries.map((entry) => {
    const { job, resultKept } = entry;
    const state = historyState(entry, localTime);
    const link = threadLinks.get(job.id);
    const where = link
      ? ` · <${link}|${resultKept ? 'see the painting in its thread' : 'open the thread'}>`
      : '';
    return `• Job ${job.id} · ${styleList(job.styles)} · asked ${localTime(job.createdAt)} · ${state}${where}`;
  });
  const order = entries.length > 1 ? ', newest first' : '';
  return [`*Your last ${plural(entries.length, 'painting')} in this workspace*${order}:`, ...lines].join(
    '\n',
  );
}
