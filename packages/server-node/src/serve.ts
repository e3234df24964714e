import type { Server } from 'node:http';
import { check, checkOptions, PlankError } from '@plank/core';
import type { App, ErrorStream, ListenSpec } from '@plank/core';
import { handlerFor, handlerState } from './handler.js';
import { drain, listenOn, urlOf } from './listen.js';
import { httpServerChecks, listenChecks, listenSpecsOf, msCheck, OPTION_ERROR } from './options.js';
import { createHttpServer } from './server.js';

export type ServeOptions = {
  /** Interface to listen on. @default all interfaces, as plackup */
  host?: string;
  /** TCP port; `0` picks a free one. @default 5000 */
  port?: number;
  /** Listen on this unix socket path instead of a TCP port. A stale socket file (nothing listening) is removed first. */
  socket?: string;
  /** Listen on an inherited, already bound descriptor (Server::Starter, systemd). */
  fd?: number;
  /** Several places to listen at once (plankup's `-l`), one server each; instead of host/port/socket/fd. */
  listen?: ListenSpec[];
  /** `psgi.errors`. @default process.stderr */
  errors?: ErrorStream;
  /** How long `close()` waits for in-flight requests before cutting connections, in ms. @default 30000 */
  gracefulTimeout?: number;
  /** Idle time before a keep-alive connection is closed, in ms. @default 5000 */
  keepAliveTimeout?: number;
  /** Time allowed to receive the request headers, in ms. @default 20000 */
  headersTimeout?: number;
  /** Time allowed to receive the whole request (headers and body), in ms; 0 disables. @default 120000 */
  requestTimeout?: number;
  /** A connection with no traffic either way for this long is closed (slow readers, stuck apps), in ms; 0 disables. @default 60000 */
  timeout?: number;
  /** Largest request body in bytes (announced by Content-Length, or chunked and growing); larger ones get 413 and the connection closes. 0 for no limit. @default 104857600 (100 MiB) */
  bodyLimit?: number;
  /** `psgi.multiprocess`: set when several processes serve the same app. @default false */
  multiprocess?: boolean;
  /** `psgix.harakiri`: the server can retire this process after a response (prefork). @default false */
  harakiri?: boolean;
  /** `plank.worker` / `plank.workers` in every env (multi-process servers; keep the array and update it in place). */
  worker?: unknown;
  workers?: readonly unknown[];
  /** The listen queue's length (`listen(2)`'s backlog), where connections wait for `accept`; also for an inherited `fd`. @default 511 (node's) */
  backlog?: number;
};

export type ServerHandle = {
  /** The first server; `servers` holds one per place it listens. */
  server: Server;
  servers: Server[];
  /** Where a client reaches the first server: `http://127.0.0.1:PORT/` for TCP, `http+unix://<encoded path>/` for a socket. */
  url: string;
  urls: string[];
  /** The first server's TCP port; undefined on a unix socket. */
  port: number | undefined;
  /**
   * Stops accepting, lets in-flight requests finish (their responses say `Connection: close`),
   * closes idle keep-alive connections, and after `timeout` ms cuts whatever is left.
   */
  close(options?: { timeout?: number }): Promise<void>;
};

const where = 'serve()';

const schema = {
  ...listenChecks,
  ...httpServerChecks,
  gracefulTimeout: msCheck,
  multiprocess: check.boolean,
  harakiri: check.boolean,
  worker: check.custom('may be anything', (v) => v),
  workers: check.custom('must be an array', (v) => (Array.isArray(v) ? (v as readonly unknown[]) : undefined)),
  backlog: check.integer({ min: 1, max: 65535 }),
};

/**
 * Serves `app` on node:http and resolves once the server listens. Request handling never
 * throws out of the server: an app that throws gets a 500 and its stack on `psgi.errors`.
 *
 * @example
 * ```ts
 * import { serve } from '@plank/server-node';
 * const handle = await serve(() => [200, ['Content-Type', 'text/plain'], ['Hello']], { port: 5000 });
 * console.log(`listening on ${handle.url}`);
 * process.once('SIGTERM', () => void handle.close());
 * ```
 */
export async function serve(app: App, options: ServeOptions = {}): Promise<ServerHandle> {
  const o = checkOptions(where, OPTION_ERROR, options, schema);
  const specs = listenSpecsOf(o, where, OPTION_ERROR);
  if (typeof app !== 'function')
    throw new PlankError(
      'PLANK_ERR_SERVE_APP',
      `${where}: the app must be a function (env) => response, got ${typeof app}`,
    );
  const state = handlerState(app, o);
  const handler = handlerFor(state);
  const servers: Server[] = [];
  try {
    for (const spec of specs) {
      const server = createHttpServer(handler, o);
      servers.push(server);
      await listenOn(server, spec, o.backlog);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => drain(s, 0)));
    throw err;
  }
  const addresses = servers.map((s, i) => urlOf(s, specs[i] as ListenSpec));
  let closing: Promise<void> | undefined;
  return {
    server: servers[0] as Server,
    servers,
    url: (addresses[0] as { url: string }).url,
    urls: addresses.map((a) => a.url),
    port: addresses[0]?.port,
    close(closeOptions) {
      const timeout = closeOptions?.timeout ?? o.gracefulTimeout ?? 30_000;
      closing ??= ((state.draining = true), Promise.all(servers.map((s) => drain(s, timeout))).then(() => {}));
      return closing;
    },
  };
}
