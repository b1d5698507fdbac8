import { type ChildProcess, spawn } from 'node:child_process';
import type { Env } from '../lib/env.ts';
import type { Logger } from '../lib/log.ts';
import { entryPoint, LOADER_ARGS } from './entry-points.ts';

const WORKER_MAIN = entryPoint('../worker/main', import.meta.url);
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 60_000;
/** A worker given this long to put its job back after SIGTERM is then killed; the heartbeat timeout recovers. */
const STOP_GRACE_MS = 15_000;

export interface WorkerProcesses {
  stop(): Promise<void>;
}

/** The chat platforms' variables (their tokens among them), which a worker neither reads nor gets. */
const CHAT_VARIABLE = /^(DISCORD|SLACK)_/;

/**
 * The worker processes `npm start` runs beside the bot: the engine never runs in the bot's own process. Each is
 * restarted (with backoff) when it exits on its own, and stopped with the bot. They get the bot's environment
 * (`env`) without the chat platforms' variables, and so the same database and job settings; they stop by
 * themselves if the bot dies, when their IPC channel closes.
 */
export function startWorkerProcesses(count: number, log: Logger, env: Env): WorkerProcesses {
  const workerEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !CHAT_VARIABLE.test(name)));
  let stopping = false;
  const children = new Set<ChildProcess>();

  function launch(index: number, delay: number): void {
    const child = spawn(process.execPath, [...LOADER_ARGS, WORKER_MAIN], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Several workers beside the bot: each health server takes a free port (logged) rather than one fixed one.
      env: { ...workerEnv, WORKER_HEALTH_PORT: '0' },
    });
    const startedAt = Date.now();
    children.add(child);
    log.info({ workerPid: child.pid, index }, 'worker process started');
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      // A worker that ran a while before exiting starts again quickly; one that keeps failing backs off.
      const next =
        Date.now() - startedAt > RESTART_MAX_MS ? RESTART_MIN_MS : Math.min(delay * 2, RESTART_MAX_MS);
      log.error({ workerPid: child.pid, code, signal, restartInMs: next }, 'worker process exited');
      setTimeout(() => !stopping && launch(index, next), next).unref();
    });
  }

  for (let i = 0; i < count; i++) launch(i, RESTART_MIN_MS / 2);

  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
              child.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
