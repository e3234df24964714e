import { chmod } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { type App, check, checkOptions, type Env, type ErrorStream, type ListenSpec, PlankError } from '@plank/core';
import { describeListen, listenOn } from '@plank/server-node';
import { type ConnectionContext, serveConnection } from './connection.js';

export type FcgiServeOptions = {
  /** TCP host; with `port`. */
  host?: string;
  port?: number;
  /** A unix socket path (a stale socket file is removed first). */
  socket?: string;
  /** The socket file's mode, e.g. `0o660` so a web server in the group can connect. @default the umask's */
  socketMode?: number;
  /** An inherited listening descriptor: `0` is how spawn-fcgi and mod_fcgid hand one over (FCGI_LISTENSOCK_FILENO). */
  fd?: number;
  /** `psgi.errors` outside a request, and protocol errors. @default process.stderr */
  errors?: ErrorStream;
  /** The most bytes of FastCGI params one request may send; more gets `431`. @default 65536 */
  maxParamsBytes?: number;
  /** The most connections at once (and FCGI_MAX_CONNS). @default 1024 */
  maxConnections?: number;
  /** How long `close()` waits for in-flight requests, in ms. @default 30000 */
  gracefulTimeout?: number;
  /** Set `psgi.multiprocess` (the prefork master serves the same socket from several processes). */
  multiprocess?: boolean;
  /** Offer `psgix.harakiri` (a worker that may exit after a response). */
  harakiri?: boolean;
  /** Called for each request as it starts (+1) and ends (-1). */
  onRequest?: (delta: 1 | -1, env: Env) => void;
};

export type FcgiServer = {
  server: Server;
  /** Where it listens, as `fcgi://host:port/`, `unix:/path` or `fd 0`. */
  url: string;
  port: number | undefined;
  /** Stops accepting; in-flight requests finish (their connections then close); after the timeout the rest are cut. */
  close(options?: { timeout?: number }): Promise<void>;
};

const OPTION_CODE = 'PLANK_ERR_SERVER_FCGI_OPTION';
// How long a kept connection must have waited for a request before a stopping server closes it.
const IDLE_CLOSE = 1000;

/**
 * Serves a Plank app over FastCGI 1.0 (the responder role), for nginx's `fastcgi_pass`,
 * Apache's `mod_proxy_fcgi`, and `spawn-fcgi`/`mod_fcgid`, which hand over descriptor 0.
 *
 * @example
 * ```ts
 * import { serveFcgi } from '@plank/server-fcgi';
 * const handle = await serveFcgi((env) => [200, ['Content-Type', 'text/plain'], ['hi']], { socket: '/run/app/fcgi.sock', socketMode: 0o660 });
 * process.once('SIGTERM', () => void handle.close());
 * ```
 */
export async function serveFcgi(app: App, options: FcgiServeOptions = {}): Promise<FcgiServer> {
  const o = checkOptions('serveFcgi', OPTION_CODE, options, {
    host: check.string,
    port: check.integer({ min: 0, max: 65535 }),
    socket: check.path,
    socketMode: check.integer({ min: 0, max: 0o777 }),
    fd: check.integer({ min: 0 }),
    errors: check.custom('must have a write() method', (v) =>
      typeof (v as ErrorStream | undefined)?.write === 'function' ? (v as ErrorStream) : undefined,
    ),
    maxParamsBytes: check.integer({ min: 1024 }),
    maxConnections: check.integer({ min: 1 }),
    gracefulTimeout: check.number({ min: 0 }),
    multiprocess: check.boolean,
    harakiri: check.boolean,
    onRequest: check.function,
  });
  if (typeof app !== 'function') throw new PlankError(OPTION_CODE, 'serveFcgi(): the app must be a function');
  const spec: ListenSpec =
    o.fd !== undefined
      ? { fd: o.fd }
      : o.socket !== undefined
        ? { socket: o.socket }
        : { host: o.host, port: o.port ?? 5000 };
  if (o.socketMode !== undefined && o.socket === undefined) {
    throw new PlankError(OPTION_CODE, 'serveFcgi: option "socketMode" needs "socket"');
  }

  const maxConns = o.maxConnections ?? 1024;
  let draining = false;
  const connections = new Map<Socket, { busy(): boolean; idleFor(): number }>();
  const ctx: ConnectionContext = {
    app,
    errors: o.errors ?? process.stderr,
    maxParamsBytes: o.maxParamsBytes ?? 65536,
    values: { maxConns, maxReqs: maxConns },
    multiprocess: o.multiprocess ?? false,
    harakiri: o.harakiri ?? false,
    draining: () => draining,
    onRequest: (o.onRequest as FcgiServeOptions['onRequest']) ?? (() => {}),
  };
  const server = createServer({ noDelay: true }, (socket) => {
    connections.set(socket, serveConnection(socket, ctx));
    socket.once('close', () => connections.delete(socket));
  });
  server.maxConnections = maxConns;
  await listenOn(server as unknown as HttpServer, spec);
  if (o.socket !== undefined && o.socketMode !== undefined) await chmod(o.socket, o.socketMode);

  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : undefined;
  const url =
    'socket' in spec
      ? `unix:${spec.socket}`
      : 'fd' in spec
        ? `fd ${spec.fd}`
        : `fcgi://${describeListen({ ...spec, port: port ?? 0 })}/`;

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    port,
    close(closeOptions) {
      closing ??= new Promise<void>((resolve) => {
        draining = true;
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        // A connection busy with a request closes when it ends (serveConnection checks
        // draining). One waiting between requests (FCGI_KEEP_CONN) may be the one the web
        // server is writing its next request to right now: closing it at once lost that
        // request under load (nginx answers 502), so it closes only once it has stayed idle a
        // moment, as server-node leaves idle keep-alive sockets to their timeout.
        const sweep = setInterval(() => {
          for (const [socket, connection] of connections) if (connection.idleFor() >= IDLE_CLOSE) socket.end();
        }, IDLE_CLOSE / 4);
        sweep.unref();
        server.once('close', () => clearInterval(sweep));
        const deadline = setTimeout(
          () => {
            for (const socket of connections.keys()) socket.destroy();
          },
          closeOptions?.timeout ?? o.gracefulTimeout ?? 30_000,
        );
        deadline.unref();
      });
      return closing;
    },
  };
}
