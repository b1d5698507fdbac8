/**
 * SIGTERM and SIGINT: the first starts the graceful shutdown, a second one (an operator who does not want to
 * wait) exits at once with status 1.
 */
export function onShutdownSignals(
  shutdown: (signal: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
  target: NodeJS.EventEmitter = process,
): void {
  let received = false;
  const handle = (signal: string) => {
    if (received) return exit(1);
    received = true;
    shutdown(signal);
  };
  target.on('SIGTERM', () => handle('SIGTERM'));
  target.on('SIGINT', () => handle('SIGINT'));
}
