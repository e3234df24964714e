// One worker process as the master sees it: forking it with the listening sockets, talking to
// it, its configuration, and the timers that kill it when it hangs.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WORKERS_FILE_ENV } from '@plank/scoreboard';
import type { Listener } from './listen.js';
import type { Settings } from './options.js';
import type { ToWorker, WorkerConfig, WorkerInfo } from './protocol.js';

// Tests run the sources; workers always run the built file.
const workerPath = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../dist/worker.js' : './worker.js', import.meta.url),
);

/** Extra time after the graceful timeout before a worker that has not exited is killed. */
const KILL_MARGIN_MS = 2_000;

export type Worker = {
  child: ChildProcess;
  info: WorkerInfo;
  greeted: boolean;
  readyAt: number | undefined;
  /** The master asked it to go, or it announced it is retiring: its exit is no failure. */
  leaving: boolean;
  error: string | undefined;
  /** The error's one-line message, for the start-up failure. */
  message: string | undefined;
  fatal: boolean;
  killTimer: NodeJS.Timeout | undefined;
  /** Kills it if it is not ready within the start-up timeout. */
  startTimer: NodeJS.Timeout | undefined;
  /** Its last `load` report, if any. */
  load: { load: number; inFlight: number; requests: number } | undefined;
};

/** Forks a worker that inherits the listening sockets from descriptor 4 on. */
export function forkWorker(
  s: Settings,
  listeners: Listener[],
  workersFile: string,
  place: { slot: number; generation: number },
): Worker {
  const fds = listeners.map((l) => l.fd);
  const child = fork(workerPath, [], {
    // 0 closed, 1-2 shared with the master, 3 the IPC channel, the listening sockets from 4.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...fds],
    execArgv: s.app.execArgv ?? process.execArgv,
    env: {
      ...process.env,
      [WORKERS_FILE_ENV]: workersFile,
      PLANK_PREFORK_FDS: fds.map((_, i) => 4 + i).join(','),
    },
  });
  return {
    child,
    info: { pid: child.pid ?? 0, ...place, state: 'starting', startedAt: Date.now() },
    greeted: false,
    readyAt: undefined,
    leaving: false,
    error: undefined,
    message: undefined,
    fatal: false,
    killTimer: undefined,
    startTimer: undefined,
    load: undefined,
  };
}

/** What a new worker is told in its `start` message. */
export function configFor(w: Worker, s: Settings, listeners: Listener[], workers: WorkerInfo[]): WorkerConfig {
  const max = s.maxReqsPerChild;
  const min = s.minReqsPerChild;
  return {
    slot: w.info.slot,
    generation: w.info.generation,
    source: s.app,
    fds: listeners.map((_, i) => 4 + i),
    maxRequests: max > 0 ? min + Math.floor(Math.random() * (max - min + 1)) : 0,
    keepAliveTimeout: s.keepAliveTimeout,
    maxKeepAliveReqs: s.maxKeepAliveReqs,
    timeout: s.timeout,
    gracefulTimeout: s.gracefulTimeout,
    ...(s.backlog === undefined ? {} : { backlog: s.backlog }),
    workers,
    ...(s.transport === undefined ? {} : { transport: s.transport }),
  };
}

export function send(w: Worker, message: ToWorker): void {
  if (!w.child.connected) return;
  // A worker that has just exited closes the channel under us; its exit event follows.
  w.child.send(message, undefined, {}, () => {});
}

/**
 * A worker that hangs while loading the app (a database that never answers, a deadlock) is
 * killed after the start-up timeout and counts as a failed start, so the usual backoff and
 * give-up apply instead of a wait without end. KILL, not TERM: a worker stuck in synchronous
 * code would never run its TERM handler, and one that is not ready has no request to finish.
 */
export function armStartup(w: Worker, ms: number): void {
  if (ms === 0) return;
  w.startTimer = setTimeout(() => {
    if (w.readyAt !== undefined || w.child.exitCode !== null || w.child.signalCode !== null) return;
    const why = `did not start within ${ms / 1000} s (startup-timeout); killed`;
    w.error = `Error: ${why}`;
    w.message = `worker ${why}`;
    w.child.kill('SIGKILL');
  }, ms);
  w.startTimer.unref();
}

/** Kills a worker still running `timeout` (and a margin) after it was asked to stop. */
export function armKill(w: Worker, timeout: number, log: (line: string) => void): void {
  if (w.killTimer) clearTimeout(w.killTimer);
  w.killTimer = setTimeout(() => {
    log(
      `prefork: worker ${w.info.pid} still running ${(timeout + KILL_MARGIN_MS) / 1000} s after it was asked to stop; killing it`,
    );
    w.child.kill('SIGKILL');
  }, timeout + KILL_MARGIN_MS);
}

/** Clears a gone worker's timers. */
export function disarm(w: Worker): void {
  if (w.killTimer) clearTimeout(w.killTimer);
  if (w.startTimer) clearTimeout(w.startTimer);
}
