import { createServer, type Server } from 'node:http';
import { optionError, PlankError } from '@plank/core';
import type { App, ErrorStream, ListenSpec } from '@plank/core';
import { handlerFor, handlerState } from './handler.js';
import { watchInactivity } from './inactivity.js';
import { drain, listenOn, urlOf } from './listen.js';

export type ServeOptions = {
  /** Interface to listen on. @default all interfaces, as plackup */
  host?: string;
  /** TCP port; `0` picks a free one. @default 5000 */
  port?: number;
  /** Listen on this unix socket path instead of a TCP port. A stale socket file (nothing listening) is removed first. */
  socket?: string;
  /** Listen on an inherited, already bound descriptor (Server::Starter, systemd). */
  fd?: number;
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
  /** `psgi.multiprocess`: set when several processes serve the same app. @default false */
  multiprocess?: boolean;
  /** `psgix.harakiri`: the server can retire this process after a response (prefork). @default false */
  harakiri?: boolean;
  /** `plank.worker` / `plank.workers` in every env (multi-process servers; keep the array and update it in place). */
  worker?: unknown;
  workers?: readonly unknown[];
  /** The listen queue's length (`listen(2)`'s backlog), where connections wait for `accept`. @default 511 (node's) */
  backlog?: number;
};

export type ServerHandle = {
  server: Server;
  /** Where a client reaches the server: `http://127.0.0.1:PORT/` for TCP, `http+unix://<encoded path>/` for a socket. */
  url: string;
  /** The bound TCP port; undefined on a unix socket. */
  port: number | undefined;
  /**
   * Stops accepting, lets in-flight requests finish (their responses say `Connection: close`),
   * closes idle keep-alive connections, and after `timeout` ms cuts whatever is left.
   */
  close(options?: { timeout?: number }): Promise<void>;
};

const where = 'serve()';

function checkMs(options: ServeOptions, name: keyof ServeOptions): void {
  const v = options[name];
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw optionError('PLANK_ERR_SERVE_OPTION', where, name, v, 'must be a number of milliseconds >= 0');
  }
}

function validate(options: ServeOptions): void {
  if (typeof options !== 'object' || options === null)
    throw optionError('PLANK_ERR_SERVE_OPTION', where, 'options', options, 'must be an object');
  const { port, host, socket, fd } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw optionError('PLANK_ERR_SERVE_OPTION', where, 'port', port, 'must be an integer from 0 to 65535');
  }
  if (host !== undefined && (typeof host !== 'string' || host === ''))
    throw optionError('PLANK_ERR_SERVE_OPTION', where, 'host', host, 'must be a non-empty string');
  if (socket !== undefined && (typeof socket !== 'string' || socket === ''))
    throw optionError('PLANK_ERR_SERVE_OPTION', where, 'socket', socket, 'must be a non-empty path');
  if (fd !== undefined && (!Number.isInteger(fd) || fd < 0))
    throw optionError('PLANK_ERR_SERVE_OPTION', where, 'fd', fd, 'must be a descriptor number >= 0');
  if ([socket, fd, port ?? host].filter((v) => v !== undefined).length > 1) {
    throw new PlankError(
      'PLANK_ERR_SERVE_OPTION',
      `${where}: give one of "port"/"host", "socket" or "fd", got ${JSON.stringify({ port, host, socket, fd })}`,
    );
  }
  if (options.errors !== undefined && typeof options.errors?.write !== 'function') {
    throw optionError('PLANK_ERR_SERVE_OPTION', where, 'errors', options.errors, 'must have a write(string) method');
  }
  for (const name of ['gracefulTimeout', 'keepAliveTimeout', 'headersTimeout', 'requestTimeout', 'timeout'] as const)
    checkMs(options, name);
}

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
  validate(options);
  if (typeof app !== 'function')
    throw new PlankError(
      'PLANK_ERR_SERVE_APP',
      `${where}: the app must be a function (env) => response, got ${typeof app}`,
    );
  const state = handlerState(app, options);
  const headersTimeout = options.headersTimeout ?? 20_000;
  const requestTimeout = options.requestTimeout ?? 120_000;
  const server = createServer(
    {
      // node checks header/request deadlines on this interval only; its 30 s default
      // stretches a 20 s deadline to 50 s.
      connectionsCheckingInterval: Math.max(250, Math.min(2_000, headersTimeout || 2_000)),
      headersTimeout,
      requestTimeout: requestTimeout === 0 ? 0 : Math.max(requestTimeout, headersTimeout),
    },
    handlerFor(state),
  );
  server.keepAliveTimeout = options.keepAliveTimeout ?? 5_000;
  // Inactivity is watched by a sweep instead of node's per-socket timer (see inactivity.ts).
  server.timeout = 0;
  const stopWatching = watchInactivity(server, options.timeout ?? 60_000);

  const { fd, socket, host, port: wanted } = options;
  const spec: ListenSpec =
    fd !== undefined ? { fd } : socket !== undefined ? { socket } : { host, port: wanted ?? 5000 };
  try {
    await listenOn(server, spec, options.backlog);
  } catch (err) {
    stopWatching();
    throw err;
  }
  const { url, port } = urlOf(server, spec);

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    port,
    close(closeOptions) {
      closing ??= ((state.draining = true),
      drain(server, closeOptions?.timeout ?? options.gracefulTimeout ?? 30_000)).finally(stopWatching);
      return closing;
    },
  };
}
