/**
 * SIGTERM and SIGINT (or the given `signals`): the first starts the graceful shutdown, a second one (an
 * operator who does not want to wait) exits at once with status 1.
 */
export function onShutdownSignals(
  shutdown: (signal: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
  target: NodeJS.EventEmitter = process,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): void {
  let received = false;
  const handle = (signal: string) => {
    if (received) return exit(1);
    received = true;
    shutdown(signal);
  };
  for (const signal of signals) target.on(signal, () => handle(signal));
}

/** How often a process started by npm checks that npm is still there. */
const PARENT_CHECK_MS = 1_000;

/**
 * Calls `gone` once when this process's parent exits (the process is re-parented: its parent id changes). For
 * a process that npm runs (`npm start`, `npm run worker`): npm passes SIGTERM and SIGINT on, but when npm itself
 * is killed its child would otherwise go on running unsupervised.
 */
export function onParentExit(gone: () => void, everyMs = PARENT_CHECK_MS): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone();
  }, everyMs);
  timer.unref();
}
