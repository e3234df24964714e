import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { chunkLength, discardBody, isFileBody, isReadable, isWebStream, statusWithoutBody } from '@plank/core';
import type {
  App,
  AppResult,
  Body,
  Chunk,
  Env,
  ErrorStream,
  Headers,
  Responder,
  Response,
  StreamingResponse,
} from '@plank/core';
import { buildEnv } from './env.js';
import type { BuildEnvOptions } from './env.js';
import { byteLength, finishLater, logError, watchClose } from './finish.js';
import { noteQueued, whenSending } from './pipelined.js';
import { sendFileBody, type Progress } from './send-file.js';
import { closedWriter, NodeWriter } from './writer.js';

export type HandlerOptions = {
  /** `psgi.errors`: where app errors and their stacks go. @default process.stderr */
  errors?: ErrorStream;
  /** `psgi.multiprocess`. @default false */
  multiprocess?: boolean;
  /** `psgix.harakiri`, `plank.worker`, `plank.workers` for every request (multi-process servers). */
  harakiri?: boolean;
  worker?: unknown;
  workers?: readonly unknown[];
};

/** Shared by every request of one handler; `draining` flips when the server starts closing. */
export type HandlerState = { app: App; envOptions: BuildEnvOptions; draining: boolean };

/**
 * Turns a Plank app into a `node:http` request listener, for servers you create yourself.
 * `serve()` uses the same code and adds listening, timeouts and a draining `close()`.
 *
 * @example
 * ```ts
 * import { createHandler } from '@plank/server-node';
 * import { createServer } from 'node:http';
 * createServer(createHandler(() => [200, ['Content-Type', 'text/plain'], ['Hello']])).listen(5000);
 * ```
 */
export function createHandler(
  app: App,
  options: HandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return handlerFor(handlerState(app, options));
}

export function handlerState(app: App, options: HandlerOptions): HandlerState {
  const envOptions: BuildEnvOptions = { errors: options.errors ?? process.stderr };
  if (options.multiprocess) envOptions.multiprocess = true;
  if (options.harakiri) envOptions.harakiri = true;
  if (options.worker !== undefined) envOptions.worker = options.worker;
  if (options.workers !== undefined) envOptions.workers = options.workers;
  return { app, envOptions, draining: false };
}

export function handlerFor(state: HandlerState): (req: IncomingMessage, res: ServerResponse) => void {
  return function plankHandler(req, res) {
    // A pipelined request's response waits behind the one before it (see pipelined.ts).
    if (res.socket === null) noteQueued(req.socket, res);
    const env = buildEnv(req, state.envOptions);
    let result: AppResult | Promise<AppResult>;
    try {
      result = state.app(env);
    } catch (err) {
      sendError(state, env, res, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (r) => dispatch(state, env, res, r),
        (err: unknown) => sendError(state, env, res, err),
      );
    } else {
      dispatch(state, env, res, result);
    }
  };
}

function dispatch(state: HandlerState, env: Env, res: ServerResponse, result: AppResult): void {
  // Whatever an app hands back, nothing may escape into node's 'request' event (a dead
  // process) or a promise callback (an unhandled rejection).
  try {
    if (typeof result === 'function') streaming(state, env, res, result);
    else if (Array.isArray(result)) sendResponse(state, env, res, result);
    else
      sendError(
        state,
        env,
        res,
        new TypeError(`the app returned ${typeof result}, expected [status, headers, body] or a function`),
      );
  } catch (err) {
    sendError(state, env, res, err);
  }
}

/** Writes status and headers; on an invalid header answers 500 instead and returns false. */
function writeHead(state: HandlerState, env: Env, res: ServerResponse, status: number, headers: Headers): boolean {
  // Once draining, every response tells the client to go elsewhere next time, so no
  // request is ever sent on a socket we are about to close.
  if (state.draining) res.shouldKeepAlive = false;
  // node would take a string as the reason phrase and coerce any status; neither is a response.
  if (typeof status !== 'number' || !Array.isArray(headers)) {
    sendError(
      state,
      env,
      res,
      new TypeError(
        `invalid response head: status ${typeof status}, headers ${Array.isArray(headers) ? 'array' : typeof headers} (expected a number and a flat [name, value, ...] array)`,
      ),
    );
    return false;
  }
  try {
    res.writeHead(status, headers);
    return true;
  } catch (err) {
    sendError(state, env, res, err);
    return false;
  }
}

function bodyless(env: Env, status: number): boolean {
  return env.REQUEST_METHOD === 'HEAD' || statusWithoutBody(status);
}

function sendResponse(state: HandlerState, env: Env, res: ServerResponse, response: Response): void {
  const status = response[0];
  const body = response[2];
  const isArray = Array.isArray(body);
  if (!isArray && !validBody(body)) {
    sendError(state, env, res, new TypeError(`invalid response body: ${Object.prototype.toString.call(body)}`));
    return;
  }
  const noBody = bodyless(env, status);
  let headers = response[1];
  let bytes = -1;
  // HEAD gets the length a GET would have had (RFC 9110 §9.3.2); 1xx/204/304 get none.
  if (isArray && !statusWithoutBody(status) && Array.isArray(headers) && !hasFraming(headers)) {
    // A body held in memory has a known length: saying so spares chunked framing and lets
    // HTTP/1.0 clients keep the connection (Starlet does the same). The app's array may be
    // shared between requests, so it is copied, never pushed to.
    bytes = 0;
    for (let i = 0; i < body.length; i++) bytes += byteLength(body[i] as Chunk);
    headers = headers.concat('Content-Length', String(bytes));
  }
  if (!writeHead(state, env, res, status, headers)) {
    release(body);
    return;
  }
  if (noBody) {
    release(body);
    res.end();
    finishLater(env, res, 0);
    return;
  }
  if (isArray) {
    try {
      if (body.length === 1) {
        res.end(body[0]);
      } else {
        for (let i = 0; i < body.length; i++) res.write(body[i] as Chunk);
        res.end();
      }
    } catch (err) {
      abortAfterHeaders(env, res, err);
      return;
    }
    finishLater(env, res, bytes, body);
    return;
  }
  const progress: Progress = { bytes: 0, aborted: false, done: false, wake: undefined };
  // Bytes are counted only for someone who asked (a finish handler registered by now):
  // a counting stage in every pipeline would cost every download.
  const fin = env['plank.finish'];
  const count = fin !== undefined && fin.length > 0;
  watchClose(env, res, progress);
  // A body starts (a file is opened, a stream read) only once its response has the socket,
  // and is let go unread if the connection closes before.
  whenSending(
    res,
    () => sendBody(env, res, body, progress, count),
    () => release(body),
  );
}

function sendBody(
  env: Env,
  res: ServerResponse,
  body: Exclude<Body, Chunk[]>,
  progress: Progress,
  count: boolean,
): void {
  const done = (err: Error | null): void => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') logError(env, err);
  };
  if (isFileBody(body)) {
    // A file that shrank or vanished after the headers went out can only be reported by
    // dropping the connection.
    sendFileBody(res, body.path, body.start ?? 0, body.end, progress, (err) => abortAfterHeaders(env, res, err));
  } else if (isReadable(body)) {
    if (count)
      body.on('data', (chunk: Chunk) => {
        progress.bytes += chunkLength(chunk);
      });
    pipeline(body, res, done);
  } else if (count) {
    pipeline(body as AsyncIterable<Chunk>, countingTransform(progress), res, done);
  } else {
    pipeline(body as AsyncIterable<Chunk>, res, done);
  }
}

/** True when the app already chose the framing (Content-Length or Transfer-Encoding). */
function hasFraming(headers: Headers): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (typeof name !== 'string') continue;
    if (
      name.length === 14
        ? sameLower(name, 'content-length')
        : name.length === 17 && sameLower(name, 'transfer-encoding')
    )
      return true;
  }
  return false;
}

/** ASCII case-insensitive equality with a lower-case `lower`, without allocating. */
function sameLower(s: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function countingTransform(progress: Progress): (source: AsyncIterable<Chunk>) => AsyncGenerator<Chunk> {
  return async function* countBytes(source) {
    for await (const chunk of source) {
      progress.bytes += chunkLength(chunk);
      yield chunk;
    }
  };
}

function validBody(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    (isFileBody(body) ||
      isReadable(body) ||
      isWebStream(body) ||
      Symbol.asyncIterator in body ||
      Symbol.iterator in body)
  );
}

/** Lets go of a body that will not be sent, without reading it (a file is never opened). */
function release(body: Body): void {
  try {
    discardBody(body);
  } catch {
    // A body that cannot be released (an iterator whose return() throws) is garbage either
    // way; the response it belonged to must not fail for it.
  }
}

function streaming(state: HandlerState, env: Env, res: ServerResponse, app: StreamingResponse): void {
  const progress: Progress = { bytes: 0, aborted: false, done: false, wake: undefined };
  let responded = false;
  const respond: Responder = function respond(response) {
    if (responded) throw new Error('respond() was called twice for one request');
    responded = true;
    if (response.length === 3) {
      sendResponse(state, env, res, response as Response);
      return closedWriter;
    }
    if (!Array.isArray(response) || !writeHead(state, env, res, response[0], response[1])) return closedWriter;
    watchClose(env, res, progress);
    return new NodeWriter(res, progress, bodyless(env, response[0]));
  };
  const fail = (err: unknown): void => {
    if (!responded) sendError(state, env, res, err);
    else abortAfterHeaders(env, res, err);
  };
  try {
    const ret = app(respond);
    if (ret instanceof Promise) ret.catch(fail);
  } catch (err) {
    fail(err);
  }
}

function abortAfterHeaders(env: Env, res: ServerResponse, err: unknown): void {
  logError(env, err);
  // The status line is gone: destroying the connection is the only way to tell the
  // client the body is incomplete (a clean end would look like a complete response).
  if (!res.writableFinished) res.destroy();
}

const errorBody = 'Internal Server Error';

function sendError(state: HandlerState, env: Env, res: ServerResponse, err: unknown): void {
  // A body over the server's limit was the client's fault, answered and logged as such
  // (guard.ts); the app that failed to read it has nothing to add.
  if ((err as { code?: unknown } | null)?.code !== 'PLANK_ERR_BODY_LIMIT') logError(env, err);
  if (res.headersSent) {
    if (!res.writableFinished) res.destroy();
    return;
  }
  // A failed writeHead has already set these; the 500 must not inherit them.
  res.statusMessage = '';
  if (state.draining) res.shouldKeepAlive = false;
  try {
    res.writeHead(500, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(errorBody.length)]);
    res.end(env.REQUEST_METHOD === 'HEAD' ? undefined : errorBody);
  } catch (again) {
    logError(env, again);
    res.destroy();
    return;
  }
  finishLater(env, res, env.REQUEST_METHOD === 'HEAD' ? 0 : errorBody.length);
}
