// The entry point of every prefork worker: the master forks this file, hands it the listening
// sockets as inherited descriptors and a `start` message; the worker loads the app itself and
// accepts on the shared sockets with server-node (no master hop per connection).
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onFinish, PlankError, show } from '@plank/core';
import type { App, AppResult, AppSource, Env } from '@plank/core';
import { serve } from '@plank/server-node';
import type { ServerHandle } from '@plank/server-node';
import { hooks, type WorkerHookInfo } from './hooks.js';
import type { ToMaster, ToWorker, WorkerConfig, WorkerInfo } from './protocol.js';

let config: WorkerConfig | undefined;
let info: WorkerHookInfo | undefined;
const workers: WorkerInfo[] = [];
const handles: ServerHandle[] = [];
let ready = false;
let stopping: Promise<void> | undefined;
let served = 0;

function send(message: ToMaster, then?: () => void): void {
  if (!process.connected || !process.send) return then?.();
  process.send(message, undefined, {}, () => then?.());
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `Error: ${show(err)}`;
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
  try {
    for (const fd of cfg.fds) {
      const handle = await serve(app, {
        fd,
        multiprocess: true,
        harakiri: true,
        worker: info,
        workers,
        keepAliveTimeout: cfg.keepAliveTimeout,
        timeout: cfg.timeout,
        gracefulTimeout: cfg.gracefulTimeout,
      });
      if (cfg.maxKeepAliveReqs > 0) handle.server.maxRequestsPerSocket = cfg.maxKeepAliveReqs;
      handles.push(handle);
    }
  } catch (err) {
    return fail(err, true);
  }
  ready = true;
  if (stopping) return;
  send({ type: 'ready' });
}

function fail(err: unknown, fatal: boolean): void {
  send({ type: 'failed', error: describe(err), fatal }, () => process.exit(1));
}

/** Stops accepting, lets in-flight requests finish, runs the exit hooks, exits. */
function stop(timeout?: number): Promise<void> {
  stopping ??= (async () => {
    // server-node's close() closes only the listener and answers what is in flight with
    // `Connection: close`; the master's descriptor keeps the socket open for the others.
    await Promise.all(handles.map((h) => h.close({ timeout: timeout ?? config?.gracefulTimeout ?? 30_000 })));
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

function retire(reason: string): Promise<void> {
  if (!stopping) send({ type: 'retiring', reason });
  return stop();
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start' && !config) void start(message.config);
  else if (message.type === 'stop') void stop(message.timeout);
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
  send({ type: 'failed', error: describe(err) }, () => process.exit(1));
  setTimeout(() => process.exit(1), 1000).unref();
});
send({ type: 'hello' });
