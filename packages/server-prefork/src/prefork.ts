import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlankError } from '@plank/core';
import type { RunningServer, ServerAdapter, ServerContext } from '@plank/core';
import { adoptListeners, closeListeners, openListeners, starterListeners } from './listen.js';
import { Master } from './master.js';
import { fromCommandLine, settings, type PreforkOptions, type Settings } from './options.js';
import type { WorkerInfo } from './protocol.js';

/** A running prefork master, as {@link prefork} returns it. */
export type PreforkServer = RunningServer & {
  /** The live workers (pid, slot, generation, state), as the master knows them. */
  workers(): WorkerInfo[];
  /** What HUP does: a new generation of workers replaces the current one without dropping a request. */
  restart(): void;
};

/**
 * Starts a prefork master in this process: it binds the listening sockets, forks the workers
 * (each loads the app from `options.app` itself and accepts on the shared sockets) and keeps
 * them alive. Resolves once the first worker is ready; rejects with `PLANK_ERR_PREFORK_START`
 * when no worker can start. Signals: TERM/INT stop gracefully, HUP restarts every worker,
 * USR1 stops slowly (Starlet), TTIN/TTOU add or remove one worker.
 *
 * @example
 * ```ts
 * import { prefork } from '@plank/server-prefork';
 * const server = await prefork({ app: { module: './app.js' }, listen: [{ port: 5000 }], workers: 4 });
 * process.exitCode = await server.closed;
 * ```
 */
export async function prefork(options: PreforkOptions): Promise<PreforkServer> {
  return start(settings(options), true);
}

async function start(s: Settings, announce: boolean): Promise<PreforkServer> {
  const starter = s.env.SERVER_STARTER_PORT;
  const listeners = starter !== undefined ? adoptListeners(starterListeners(starter)) : await openListeners(s.listen);
  const urls = listeners.map((l) => l.url);
  if (starter !== undefined) {
    s.log(
      `prefork: Server::Starter generation ${s.env.SERVER_STARTER_GENERATION ?? '(unset)'}, inherited ${starter} (--port/--listen ignored)`,
    );
  }
  // Until a worker is ready, the master's lines are held back: a start that fails is reported
  // as one line (the rejection; plankup --debug adds the worker's stack), a start that
  // succeeds after failures prints them all.
  const held: Array<() => void> = [];
  let holding = true;
  const quiet: Settings = {
    ...s,
    log: (line) => (holding ? held.push(() => s.log(line)) : s.log(line)),
    errors: {
      write: (text: string) => (holding ? held.push(() => s.errors.write(text)) : s.errors.write(text)),
    },
  };
  // Under Server::Starter a new generation must fail fast, before start_server gives up on the old one.
  const tempDir = s.workersFile === undefined ? mkdtempSync(join(tmpdir(), 'plank-prefork-')) : undefined;
  const workersFile = s.workersFile ?? join(tempDir as string, 'workers.json');
  const master = new Master(quiet, listeners, starter !== undefined ? 1 : 3, workersFile);
  if (s.pidFile !== undefined) writeFileSync(s.pidFile, `${process.pid}\n`);

  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGHUP', () => master.restart()],
    ['SIGUSR1', () => master.slowStop()],
    ['SIGTTIN', () => master.resize(1)],
    ['SIGTTOU', () => master.resize(-1)],
  ];
  if (s.signals === true) handlers.push(['SIGTERM', () => master.stop()], ['SIGINT', () => master.stop()]);
  const installed =
    s.signals === false
      ? []
      : handlers.map(([signal, act]): [NodeJS.Signals, () => void] => [
          signal,
          () => {
            quiet.log(`prefork: ${signal} received`);
            act();
          },
        ]);
  for (const [signal, handler] of installed) process.on(signal, handler);

  const closed = master.closed.then((code) => {
    for (const [signal, handler] of installed) process.off(signal, handler);
    closeListeners(listeners);
    // A list left behind would show dead workers as live.
    for (const file of [s.pidFile, workersFile]) {
      if (file === undefined) continue;
      try {
        unlinkSync(file);
      } catch {
        // someone else removed it
      }
    }
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
    quiet.log(`prefork: master ${process.pid} exiting (${code})`);
    return code;
  });

  master.start();
  try {
    await master.started;
  } catch (err) {
    await closed;
    throw err;
  }
  holding = false;
  for (const line of held.splice(0)) line();
  s.log(`prefork: master ${process.pid} running ${s.workers} worker${s.workers === 1 ? '' : 's'}`);
  if (announce) for (const url of urls) s.log(`Plank: listening on ${url}`);
  return {
    urls,
    closed,
    close(options) {
      master.stop(options?.timeout);
      return closed.then(() => {});
    },
    workers: () => master.workers(),
    restart: () => master.restart(),
  };
}

function contextOptions(ctx: ServerContext): PreforkOptions {
  if (ctx.source === undefined) {
    throw new PlankError(
      'PLANK_ERR_PREFORK_APP',
      'prefork: the app must come as a source its workers can load (ctx.source), not as a loaded app',
    );
  }
  return {
    ...fromCommandLine(ctx.options),
    app: ctx.source,
    listen: ctx.listen,
    log: ctx.log,
    errors: ctx.errors,
    signals: 'control',
  };
}

/**
 * What `plankup -s prefork` runs. plankup handles TERM and INT through `close()`; the master
 * handles HUP, USR1, TTIN and TTOU itself.
 */
export const plankServer: ServerAdapter = {
  name: 'prefork',
  loadsApp: true,
  validate(ctx) {
    settings(contextOptions(ctx));
  },
  run(ctx) {
    return start(settings(contextOptions(ctx)), false);
  },
};
