import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorStream } from '@plank/core';
import { type ClientErrorReport, clientErrorReporter, reasonOf } from './client-errors.js';
import { type GuardOptions, guarded, mayContinue } from './guard.js';
import { watchInactivity } from './inactivity.js';
import { currentResponse } from './node-private.js';

/** The server-level settings every server built on node:http shares (serve(), fastify, prefork workers). */
export type HttpServerOptions = {
  /** Where the server's own log lines go (client errors). @default process.stderr */
  errors?: ErrorStream;
  /** Idle time before a keep-alive connection is closed, in ms. @default 5000 */
  keepAliveTimeout?: number;
  /** Time allowed to receive the request headers, in ms. @default 20000 */
  headersTimeout?: number;
  /** Time allowed to receive the whole request (headers and body), in ms; 0 disables. @default 120000 */
  requestTimeout?: number;
  /** A connection with no traffic either way for this long is closed (slow readers, stuck apps), in ms; 0 disables. @default 60000 */
  timeout?: number;
  /** Largest request body in bytes (Content-Length or chunked); 0 for no limit. @default 104857600 (100 MiB) */
  bodyLimit?: number;
};

/** What `createHttpServer` takes beyond {@link HttpServerOptions}. */
export type CreateHttpServerOptions = HttpServerOptions & {
  /** node's option: the response class, for a server that subclasses it (server-fastify). */
  ServerResponse?: typeof ServerResponse;
};

/** The defaults of {@link HttpServerOptions}, in one place. */
export const serverDefaults: Readonly<Required<Omit<HttpServerOptions, 'errors'>>> = Object.freeze({
  keepAliveTimeout: 5_000,
  headersTimeout: 20_000,
  requestTimeout: 120_000,
  timeout: 60_000,
  bodyLimit: 100 * 1024 * 1024,
});

/**
 * Creates the `http.Server` every Plank server on node:http runs: its timeouts (node's own
 * defaults are minutes long and checked every 30 s), the inactivity sweep, the request
 * checks (400 for a repeated or invalid Host, 413 past `bodyLimit`), a 501 for CONNECT, and
 * node's own 400/408/431 replies logged (one line a second at most for each status) and
 * published to {@link CLIENT_ERROR_CHANNEL}. It does not listen: see `listenOn`, and `drain`
 * to close it. The inactivity sweep stops when the server closes.
 *
 * @example
 * ```ts
 * import { createHttpServer, createHandler, listenOn } from '@plank/server-node';
 * const server = createHttpServer(createHandler(() => [200, [], ['Hello']]), { bodyLimit: 1024 * 1024 });
 * await listenOn(server, { host: '127.0.0.1', port: 5000 });
 * ```
 */
export function createHttpServer(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  options: CreateHttpServerOptions = {},
): Server {
  const o = {
    ...serverDefaults,
    ...withoutUndefined({
      keepAliveTimeout: options.keepAliveTimeout,
      headersTimeout: options.headersTimeout,
      requestTimeout: options.requestTimeout,
      timeout: options.timeout,
      bodyLimit: options.bodyLimit,
    }),
  };
  const report = clientErrorReporter(options.errors ?? process.stderr);
  const guard: GuardOptions = { bodyLimit: o.bodyLimit, report };
  const server = createServer(
    {
      ...(options.ServerResponse ? { ServerResponse: options.ServerResponse } : {}),
      // node checks header/request deadlines on this interval only; its 30 s default
      // stretches a 20 s deadline to 50 s.
      connectionsCheckingInterval: Math.max(250, Math.min(2_000, o.headersTimeout || 2_000)),
      headersTimeout: o.headersTimeout,
      requestTimeout: o.requestTimeout === 0 ? 0 : Math.max(o.requestTimeout, o.headersTimeout),
    },
    guarded(listener, guard),
  );
  server.keepAliveTimeout = o.keepAliveTimeout;
  // Inactivity is watched by a sweep instead of node's per-socket timer (see inactivity.ts).
  server.timeout = 0;
  server.once('close', watchInactivity(server, o.timeout));
  // node sends `100 Continue` by itself before the request event; a body over the limit
  // must get its 413 instead, before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!mayContinue(req, res, guard)) return;
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('connect', (req: IncomingMessage, socket: Duplex) => answerConnect(req, socket, report));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, report));
  return server;
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k as keyof T] = v;
  return out;
}

/**
 * CONNECT asks for a tunnel, which only a proxy provides; node closes the connection
 * without a word unless someone listens. An origin server that does not implement a method
 * answers 501 (RFC 9110 §9.1, §15.6.2). nginx 1.22 (measured here) answers 400; 405 would
 * need an `Allow` list that only the app knows, and 400 says the request was malformed,
 * which it was not.
 */
function answerConnect(req: IncomingMessage, socket: Duplex, report: (r: ClientErrorReport) => void): void {
  report({
    status: 501,
    code: 'PLANK_ERR_CONNECT',
    message: 'CONNECT (a tunnel) is not served here',
    remoteAddress: (socket as { remoteAddress?: string }).remoteAddress,
    remotePort: (socket as { remotePort?: number }).remotePort,
    method: req.method,
    url: req.url,
    time: new Date(),
  });
  reply(socket, 501);
}

// Errors of the connection itself, where there is nobody to answer.
const gone = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, report: (r: ClientErrorReport) => void): void {
  const code = err.code ?? 'ERR_UNKNOWN';
  // The guard destroys a request whose chunked body grew past the limit, after answering
  // and reporting it; node passes that error on here, and it is not a second client error.
  if (gone.has(code) || code === 'PLANK_ERR_BODY_LIMIT') {
    socket.destroy();
    return;
  }
  const status =
    code === 'HPE_HEADER_OVERFLOW' || code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
      ? 431
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : 400;
  report({
    status,
    code,
    message: err.message,
    remoteAddress: (socket as { remoteAddress?: string }).remoteAddress,
    remotePort: (socket as { remotePort?: number }).remotePort,
    method: undefined,
    url: undefined,
    time: new Date(),
  });
  // As node does: answer only if no response has started on this connection, so a reply
  // never lands in the middle of another.
  const res = currentResponse(socket as never);
  if (socket.writable && (res === undefined || !res.headersSent)) reply(socket, status);
  else socket.destroy();
}

function reply(socket: Duplex, status: number): void {
  const body = `${reasonOf(status)}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reasonOf(status)}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Whatever the client still sends is not read: close once the answer is out.
  socket.once('finish', () => socket.destroy());
}
