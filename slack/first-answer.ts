import type { AckFn, App, RespondFn } from '@slack/bolt';
import type { Logger } from '../lib/log.ts';
import { slackError } from './errors.ts';
import { messageModal } from './modal.ts';
import type { ModalView, SlackClient } from './slack-types.ts';

/**
 * Slack's 3 s for a request's acknowledgement. Listeners ack first and then do their work, except where the ack
 * carries an answer that needs a database read (a form's validation, a select's options): those ack when it is
 * known. This guard, put on the app's registration methods so that every listener gets it, acks on a listener's
 * behalf when it has not within {@link ACK_BUDGET_MS} (a database under a lock), and delivers its later ack's
 * answer the way that still works: a command's text through its response_url, a form's new view or errors with
 * views.update. A select's options that come too late are dropped (the member sees none and types again).
 */
export const ACK_BUDGET_MS = 2_000;

type Registration = 'command' | 'action' | 'view' | 'shortcut' | 'options';
const REGISTRATIONS: readonly Registration[] = ['command', 'action', 'view', 'shortcut', 'options'];

interface ListenerArgs {
  ack: AckFn<unknown>;
  body: { view?: { id?: string; title?: { text?: string } } };
  client: SlackClient;
  respond?: RespondFn;
}
type Listener = (args: ListenerArgs) => Promise<void>;

/** Wraps the listeners registered on `app` from now on with the guard. */
export function guardAcks(app: App, log: Logger, budgetMs = ACK_BUDGET_MS): void {
  const methods = app as unknown as Record<Registration, (...args: unknown[]) => unknown>;
  for (const registration of REGISTRATIONS) {
    const register = methods[registration].bind(app);
    methods[registration] = (...args: unknown[]) => {
      const listener = args.pop() as Listener;
      return register(...args, (listenerArgs: ListenerArgs) =>
        guarded(registration, listenerArgs, listener, log, budgetMs),
      );
    };
  }
}

async function guarded(
  registration: Registration,
  args: ListenerArgs,
  listener: Listener,
  log: Logger,
  budgetMs: number,
): Promise<void> {
  const own = args.ack;
  let acked = false;
  const timer = setTimeout(() => {
    if (acked) return;
    acked = true;
    own(stopgap(registration, args)).catch((error: unknown) =>
      log.warn({ platform: 'slack', err: slackError(error) }, 'slack: could not acknowledge in time'),
    );
  }, budgetMs);
  timer.unref();
  const ack = async (answer?: unknown) => {
    if (!acked) {
      acked = true;
      clearTimeout(timer);
      return own(answer);
    }
    await late(registration, args, answer).catch((error: unknown) =>
      log.warn({ platform: 'slack', err: slackError(error) }, 'slack: could not give a late answer'),
    );
  };
  try {
    await listener({ ...args, ack });
  } finally {
    clearTimeout(timer);
  }
}

/** The ack given for a listener that is late: a form shows that it is being worked on; the rest, nothing yet. */
function stopgap(registration: Registration, args: ListenerArgs): unknown {
  if (registration === 'options') return { options: [] };
  if (registration === 'view') {
    return {
      response_action: 'update',
      view: messageModal(titleOf(args), ':hourglass_flowing_sand: One moment…'),
    };
  }
  return undefined;
}

/** A listener's ack that came after the guard's: its answer, by the way that still works. */
async function late(registration: Registration, args: ListenerArgs, answer: unknown): Promise<void> {
  if (!answer || typeof answer !== 'object') return;
  const given = answer as { response_action?: string; view?: ModalView; errors?: Record<string, string> };
  if (registration === 'command' && args.respond) {
    await args.respond({ response_type: 'ephemeral', ...(answer as Record<string, unknown>) });
  } else if (registration === 'view' && args.body.view?.id) {
    const view =
      given.response_action === 'errors'
        ? messageModal(titleOf(args), Object.values(given.errors ?? {}).join('\n'))
        : given.view;
    if (view) await args.client.views.update({ view_id: args.body.view.id, view });
  }
}

const titleOf = (args: ListenerArgs) => args.body.view?.title?.text ?? 'Stylize';
