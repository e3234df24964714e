// The entry point of every prefork worker: the master forks this file, hands it the listening
// sockets as inherited descriptors and a `start` message; the worker loads the app itself and
// accepts on the shared sockets with server-node (no master hop per connection).
import { closeSync } from 'node:fs';
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { enterLameDuck, lameDuckSeconds, onFinish, PlankError, show } from '@plank/core';
import type { App, AppResult, AppSource, Env } from '@plank/core';
import { serve } from '@plank/server-node';
import type { ServerHandle } from '@plank/server-node';
import { hooks, type WorkerHookInfo } from './hooks.js';
import { watchLoad } from './load.js';
import type { WorkerTransport } from './options.js';
import type { ToMaster, ToWorker, WorkerConfig, WorkerInfo } from './protocol.js';

// The listening sockets this worker inherited (descriptor numbers), whether or not it ever
// listens on them; not passed on to the app's own child processes.
const inherited = (process.env.PLANK_PREFORK_FDS ?? '').split(',').filter(Boolean).map(Number);
delete process.env.PLANK_PREFORK_FDS;
let config: WorkerConfig | undefined;
let info: WorkerHookInfo | undefined;
const workers: WorkerInfo[] = [];
/** What a worker serves with: server-node's handle, or a transport's (`{ server, close }`). */
type WorkerServer = Pick<ServerHandle, 'close'> & { server: NetServer };
const handles: WorkerServer[] = [];
let ready = false;
let stopping: Promise<void> | undefined;
/** Set while start() opens the listeners, so a stop that arrives meanwhile closes all of them. */
let listening: Promise<void> | undefined;
let closingListeners: Promise<void> | undefined;
/** Settle when each server has closed its listener and its last connection has ended. */
const drained: Promise<void>[] = [];
let served = 0;

function send(message: ToMaster, then?: () => void): void {
  if (!process.connected || !process.send) return then?.();
  process.send(message, undefined, {}, () => then?.());
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return `Error: ${show(err)}`;
  const text = err.stack ?? `${err.name}: ${err.message}`;
  // A loader that wraps the app's error keeps the stack that points into the app as its cause.
  return err.cause === undefined ? text : `${text}\ncaused by: ${describe(err.cause)}`;
}

function failure(err: unknown, fatal?: boolean): ToMaster {
  const message = err instanceof Error ? err.message : show(err);
  return { type: 'failed', error: describe(err), message, ...(fatal === undefined ? {} : { fatal }) };
}

/** Imports the module named by `source` and returns its app (a default export, or what the named loader returns). */
async function loadApp(source: AppSource): Promise<App> {
  const spec = source.module;
  let url: string;
  if (spec.startsWith('.') || isAbsolute(spec)) url = pathToFileURL(resolve(spec)).href;
  else if (/^[a-z]+:/i.test(spec)) url = spec;
  else url = pathToFileURL(createRequire(join(process.cwd(), 'noop.js')).resolve(spec)).href;
  const mod = (await import(url)) as Record<string, unknown>;
  let app: unknown;
  if (source.export !== undefined) {
    const loader = mod[source.export];
    if (typeof loader !== 'function')
      throw new PlankError(
        'PLANK_ERR_PREFORK_APP',
        `${spec}: export "${source.export}" must be a function returning the app, got ${show(loader)}`,
      );
    app = await (loader as (args: unknown) => unknown)(source.args);
  } else {
    app = await mod.default;
  }
  if (typeof app !== 'function')
    throw new PlankError(
      'PLANK_ERR_PREFORK_APP',
      `${spec}: the app must be a function (env) => response, got ${show(app)}`,
    );
  return app as App;
}

function wrap(app: App, limit: number): App {
  const check = (env: Env): void => {
    if (env['psgix.harakiri.commit'] === true) void retire('harakiri');
  };
  const later = (env: Env, result: AppResult): AppResult => {
    if (typeof result === 'function') onFinish(env, () => check(env));
    else check(env);
    return result;
  };
  return function preforkWorker(env) {
    // Counted as the request arrives, so this very response already says `Connection: close`.
    if (limit > 0 && ++served === limit) void retire(`${limit} requests`);
    const result = app(env);
    if (result instanceof Promise) return result.then((r) => later(env, r));
    return later(env, result);
  };
}

async function start(cfg: WorkerConfig): Promise<void> {
  config = cfg;
  workers.splice(0, workers.length, ...cfg.workers);
  info = { pid: process.pid, slot: cfg.slot, generation: cfg.generation };
  let app: App;
  try {
    app = wrap(await loadApp(cfg.source), cfg.maxRequests);
    for (const hook of hooks().start) await hook(info);
  } catch (err) {
    return fail(err, false);
  }
  // Told to stop while loading: never listen, so no connection is taken only to be dropped.
  if (closingListeners) return;
  let opened!: () => void;
  listening = new Promise<void>((resolve) => (opened = resolve));
  try {
    const transport = cfg.transport === undefined ? undefined : await transportOf(cfg.transport);
    for (const fd of cfg.fds) {
      if (transport) {
        handles.push(
          await transport(app, {
            ...cfg.transport?.options,
            fd,
            multiprocess: true,
            harakiri: true,
            gracefulTimeout: cfg.gracefulTimeout,
          }),
        );
        continue;
      }
      const handle = await serve(app, {
        fd,
        multiprocess: true,
        harakiri: true,
        worker: info,
        workers,
        keepAliveTimeout: cfg.keepAliveTimeout,
        timeout: cfg.timeout,
        gracefulTimeout: cfg.gracefulTimeout,
        backlog: cfg.backlog,
      });
      if (cfg.maxKeepAliveReqs > 0) handle.server.maxRequestsPerSocket = cfg.maxKeepAliveReqs;
      handles.push(handle);
    }
  } catch (err) {
    return fail(err, true);
  } finally {
    opened();
  }
  ready = true;
  if (stopping) return;
  send({ type: 'ready', lameDuck: lameDuckSeconds() });
  watchLoad(
    handles.map((h) => h.server),
    (r) => send({ type: 'load', ...r }),
  );
}

type TransportServe = (app: App, options: Record<string, unknown>) => Promise<WorkerServer>;

// The master names the transport by module; a worker loads it as it loads the app.
async function transportOf(transport: WorkerTransport): Promise<TransportServe> {
  const mod = (await import(transport.module)) as Record<string, unknown>;
  const serveWith = mod[transport.export];
  if (typeof serveWith !== 'function') {
    throw new PlankError(
      'PLANK_ERR_SERVER_PREFORK_OPTION',
      `prefork: transport ${transport.module} exports no function ${show(transport.export)}`,
    );
  }
  return serveWith as TransportServe;
}

function fail(err: unknown, fatal: boolean): void {
  send(failure(err, fatal), () => process.exit(1));
}

/**
 * Stops accepting; the connections already open are still answered, with keep-alive. The
 * master asks every worker of a stop to do this before any of them drains: a `Connection:
 * close` sent while another worker still listens sends its client there, to be reset if that
 * worker closes with the connection still in its queue.
 */
function closeListeners(): Promise<void> {
  closingListeners ??= (async () => {
    await listening;
    if (handles.length === 0) {
      // Never listened: the copies this process holds would keep the socket open (and the
      // kernel queueing connections nobody takes) until it exits.
      for (const fd of inherited) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      return;
    }
    await quiesce(handles.map((h) => h.server));
    for (const { server } of handles)
      drained.push(new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve())));
  })();
  return closingListeners;
}

/** Stops accepting, lets in-flight requests finish (`Connection: close`), runs the exit hooks, exits. */
function stop(timeout?: number): Promise<void> {
  stopping ??= (async () => {
    await closeListeners();
    const ms = timeout ?? config?.gracefulTimeout ?? 30_000;
    // server-node's close() turns on its draining flag (every response says `Connection:
    // close`); its listener is closed already, so the wait for the last connection is ours.
    await Promise.all(handles.map((h) => h.close({ timeout: ms })));
    const deadline = setTimeout(() => {
      // A transport's own close() cuts its connections at the same deadline.
      for (const { server } of handles) (server as Partial<Server>).closeAllConnections?.call(server);
    }, ms);
    await Promise.all(drained);
    clearTimeout(deadline);
    if (info && ready) {
      for (const hook of hooks().exit) {
        try {
          await hook(info);
        } catch (err) {
          process.stderr.write(`prefork worker ${process.pid}: onWorkerExit hook failed: ${describe(err)}\n`);
        }
      }
    }
    process.exit(0);
  })();
  return stopping;
}

/**
 * Waits for an event-loop turn in which the listeners accepted nothing (at most 20 turns).
 * The `stop` message can be handled in the same turn as, and before, a listener that has
 * connections waiting; closing the last copy of the socket right then resets them (seen under
 * CPU starvation: three queued connections reset at once). After a turn with no accept, the
 * queue was empty a moment ago, so the close races only what arrives in that moment.
 */
async function quiesce(servers: NetServer[]): Promise<void> {
  let accepted = 0;
  const count = (): void => {
    accepted++;
  };
  for (const server of servers) server.on('connection', count);
  try {
    for (let turn = 0; turn < 20; turn++) {
      const before = accepted;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (accepted === before) break;
    }
  } finally {
    for (const server of servers) server.off('connection', count);
  }
}

function retire(reason: string): Promise<void> {
  if (!stopping) send({ type: 'retiring', reason });
  return stop();
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start' && !config) void start(message.config);
  else if (message.type === 'close-listeners') void closeListeners().then(() => send({ type: 'listeners-closed' }));
  else if (message.type === 'stop') void stop(message.timeout);
  else if (message.type === 'lame-duck') void enterLameDuck();
  // In place: every env refers to this one array (server-node puts it in the env literal).
  else if (message.type === 'workers') workers.splice(0, workers.length, ...message.workers);
});
// The master decides when workers go: a terminal's Ctrl-C or hang-up reaches the whole
// process group, and the master turns it into an orderly stop or restart.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => void stop());
// Orphaned (the master was killed): finish what is in flight and go.
process.on('disconnect', () => void stop());
process.on('uncaughtException', (err) => {
  send(failure(err), () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
});
send({ type: 'hello' });
