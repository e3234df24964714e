import { METHODS, ServerResponse } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { check, checkOptions, optionError, PlankError } from '@plank/core';
import type { App, ListenSpec } from '@plank/core';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import {
  createHttpServer,
  drain,
  httpServerChecks,
  listenChecks,
  listenOn,
  listenSpecsOf as specsOf,
  msCheck,
  type ServeOptions,
  urlOf,
} from '@plank/server-node';
import { forwarder, leaveBodiesUnread } from './plugin.js';

/** Options of {@link serve}: server-node's `serve()` options for listening, timeouts and limits (same meaning, same defaults), and `fastify`. */
export type FastifyServeOptions = Pick<
  ServeOptions,
  | 'host'
  | 'port'
  | 'socket'
  | 'fd'
  | 'listen'
  | 'errors'
  | 'multiprocess'
  | 'gracefulTimeout'
  | 'keepAliveTimeout'
  | 'headersTimeout'
  | 'requestTimeout'
  | 'timeout'
  | 'bodyLimit'
> & {
  /**
   * Options for the fastify instance (`logger`, `genReqId`, ...). Those fastify applies to
   * the HTTP server or its closing are refused, since serve() creates the servers and drains
   * them itself: `serverFactory`, `https`, `http2`, `http`, `connectionTimeout`,
   * `keepAliveTimeout`, `requestTimeout`, `maxRequestsPerSocket`, `forceCloseConnections`,
   * `return503OnClosing` (the timeouts are serve()'s own options).
   * @default {}
   */
  fastify?: FastifyServerOptions;
};

export type FastifyServerHandle = {
  /** The fastify instance serving the app (ready, routes closed to changes). */
  fastify: FastifyInstance;
  /** The first server; `servers` holds one per listen spec. */
  server: Server;
  servers: Server[];
  /** Where a client reaches the first server: `http://127.0.0.1:PORT/`, `http+unix://<encoded path>/`. */
  url: string;
  urls: string[];
  /** The first server's TCP port; undefined on a unix socket or descriptor without one. */
  port: number | undefined;
  /**
   * Stops accepting, lets in-flight requests finish (their responses say `Connection: close`),
   * closes idle keep-alive connections, cuts what is left after `timeout` ms, then closes
   * fastify (its onClose hooks run last).
   */
  close(options?: { timeout?: number }): Promise<void>;
};

const where = 'serve()';
/** server-fastify's error code for every bad option, by the rule PLANK_ERR_<PACKAGE>_OPTION. */
export const OPTION_ERROR = 'PLANK_ERR_SERVER_FASTIFY_OPTION';
// fastify reads these only when it creates the server itself, or serve() sets them: given
// to serve(), they would be dropped without a word.
const createsServers = 'is not supported: serve() creates the HTTP servers';
const ignoredFastifyOptions: ReadonlyArray<readonly [string, string]> = [
  ['serverFactory', createsServers],
  ['https', createsServers],
  ['http2', createsServers],
  ['http', createsServers],
  ['connectionTimeout', 'is not supported: use serve()\'s "timeout"'],
  ['keepAliveTimeout', 'is not supported: use serve()\'s "keepAliveTimeout"'],
  ['requestTimeout', 'is not supported: use serve()\'s "requestTimeout"'],
  [
    'maxRequestsPerSocket',
    'is not supported: serve() creates the HTTP servers (set maxRequestsPerSocket on handle.servers)',
  ],
  ['forceCloseConnections', 'is not supported: close() drains as server-node does'],
  ['return503OnClosing', 'is not supported: close() drains as server-node does'],
];

const fastifyOptions = check.custom('must be an object of fastify options', (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as FastifyServerOptions) : undefined,
);

const schema = {
  ...listenChecks,
  ...httpServerChecks,
  gracefulTimeout: msCheck,
  multiprocess: check.boolean,
  fastify: fastifyOptions,
};

/** Checks the options (server-node's rules for what they share) and turns them into the list of places to listen. */
export function listenSpecsOf(options: FastifyServeOptions): ListenSpec[] {
  const o = checkOptions(where, OPTION_ERROR, options, schema);
  for (const [name, why] of ignoredFastifyOptions) {
    const value = (o.fastify as Record<string, unknown> | undefined)?.[name];
    if (value !== undefined) throw optionError(OPTION_ERROR, where, `fastify.${name}`, value, why);
  }
  return specsOf(o, where, OPTION_ERROR);
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Responses whose head is written once draining has started say `Connection: close`, so
 * no client sends another request on a socket about to close. Checked when the head goes
 * out rather than when the request comes in, so requests already in flight are covered.
 */
function drainAwareResponse(drain: { draining: boolean }): typeof ServerResponse {
  const writeHead = ServerResponse.prototype.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  class DrainAwareResponse extends ServerResponse {}
  DrainAwareResponse.prototype.writeHead = function writeHeadOrClose(
    this: ServerResponse,
    ...args: unknown[]
  ): ServerResponse {
    if (drain.draining) this.shouldKeepAlive = false;
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  return DrainAwareResponse as typeof ServerResponse;
}

/**
 * Serves a Plank app on a fastify instance and resolves once every listener is up. The app
 * gets every request (any path, any method, even those fastify's router cannot route),
 * with the body unread on `psgi.input`; responses are written by server-node's writer, so
 * streaming, file bodies and HEAD behave exactly as on server-node.
 *
 * @example
 * ```ts
 * import { serve } from '@plank/server-fastify';
 * const handle = await serve(() => [200, ['Content-Type', 'text/plain'], ['Hello']], { port: 5000 });
 * console.log(`listening on ${handle.url}`);
 * process.once('SIGTERM', () => void handle.close());
 * ```
 */
export async function serve(app: App, options: FastifyServeOptions = {}): Promise<FastifyServerHandle> {
  const specs = listenSpecsOf(options);
  if (typeof app !== 'function')
    throw new PlankError(
      'PLANK_ERR_FASTIFY_APP',
      `${where}: the app must be a function (env) => response, got ${typeof app}`,
    );
  const drainState = { draining: false };
  const Response = drainAwareResponse(drainState);
  const serverOptions = {
    errors: options.errors,
    keepAliveTimeout: options.keepAliveTimeout,
    headersTimeout: options.headersTimeout,
    requestTimeout: options.requestTimeout,
    timeout: options.timeout,
    bodyLimit: options.bodyLimit,
    ServerResponse: Response,
  };
  // server-node's construction (timeouts, inactivity sweep, request checks, client errors).
  const makeServer = (listener: Listener): Server => createHttpServer(listener, serverOptions);

  const plankOptions = {
    ...(options.errors ? { errors: options.errors } : {}),
    ...(options.multiprocess ? { multiprocess: true } : {}),
  };
  const forward = forwarder(app, plankOptions, false);
  let listener: Listener | undefined;
  const fastify = Fastify({
    ...options.fastify,
    // Draining is ours (see close()); fastify's own answers 503 to keep-alive requests.
    return503OnClosing: false,
    forceCloseConnections: false,
    serverFactory(handler: Listener) {
      listener = handler;
      return makeServer(handler);
    },
    // Paths fastify's router refuses before any hook (bad escapes) are the app's to answer.
    frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') forward(request, reply);
      else void reply.send(error);
    },
  }) as unknown as FastifyInstance;

  // Every method node parses reaches the app, as on server-node.
  const known = new Set(fastify.supportedMethods);
  for (const method of METHODS)
    if (!known.has(method) && method !== 'CONNECT') fastify.addHttpMethod(method, { hasBody: true });
  leaveBodiesUnread(fastify);
  // The app takes over right after routing: with no fastify hooks, validation or body
  // parsing to run, every later step (content-type checks among them) would only be cost,
  // or a refusal server-node would not make.
  fastify.addHook('onRequest', function plankRequest(request, reply, done) {
    forward(request, reply);
    done();
  });
  // With no routes, every request (any path, `*`, absolute-form) lands in the not-found
  // context, which gives the hook above a place to run; its handler only runs if that hook
  // is ever bypassed. A catch-all route (plankPlugin at '/') would route the same requests
  // with one router lookup instead of two, but measured no faster, at the cost of a second
  // handler and an encapsulated plugin per serve().
  fastify.setNotFoundHandler(function plankNotFound(request, reply) {
    forward(request, reply);
  });
  await fastify.ready();

  const servers: Server[] = [fastify.server as Server];
  const handler = listener as Listener;
  for (let i = 1; i < specs.length; i++) servers.push(makeServer(handler));
  try {
    for (let i = 0; i < specs.length; i++) await listenOn(servers[i] as Server, specs[i] as ListenSpec);
  } catch (err) {
    await Promise.all(servers.map((s) => drain(s, 0)));
    await fastify.close();
    throw err;
  }
  const addresses = servers.map((s, i) => urlOf(s, specs[i] as ListenSpec));

  let closing: Promise<void> | undefined;
  return {
    fastify,
    server: servers[0] as Server,
    servers,
    url: addresses[0]?.url as string,
    urls: addresses.map((a) => a.url),
    port: addresses[0]?.port,
    close(closeOptions) {
      closing ??= (async () => {
        drainState.draining = true;
        const timeout = closeOptions?.timeout ?? options.gracefulTimeout ?? 30_000;
        await Promise.all(servers.map((s) => drain(s, timeout)));
        await fastify.close();
      })();
      return closing;
    },
  };
}
