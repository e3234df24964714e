import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import { Readable } from 'node:stream';
import { bodyChunks, chunkLength, discardBody, statusWithoutBody } from '@plank/core';
import type { App, AppResult, Body, Chunk, Env, ErrorStream, FinishInfo, Headers, Response, Writer } from '@plank/core';
import { buildEnv } from '@plank/server-node';
import type { RequestLike } from '@plank/server-node';
import { checkInit } from './request-init.js';
import { flatHeaders, hasHeader, makeResponse } from './types.js';
import type { TestRequestInit, TestResponse } from './types.js';

export type InProcessOptions = {
  /** `psgi.errors` for every request. @default process.stderr */
  errors?: ErrorStream;
};

/**
 * The env a server would build for this request, for tests that call an app or a
 * middleware directly (built by server-node's own `buildEnv`, so PATH_INFO is decoded once,
 * headers become HTTP_* and so on, exactly as over a socket).
 *
 * @example
 * ```ts
 * import { testEnv } from '@plank/test';
 * const env = testEnv('/a%20b?x=1', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'hi' });
 * ```
 */
export function testEnv(path = '/', given: TestRequestInit = {}, options: InProcessOptions = {}): Env {
  const init = checkInit(path, given, 'inprocess');
  const rawHeaders = flatHeaders(init.headers);
  if (!hasHeader(rawHeaders, 'host')) rawHeaders.unshift('Host', 'localhost');
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === 'string'
        ? Buffer.from(init.body, 'utf8')
        : Buffer.from(init.body);
  if (body !== undefined && !hasHeader(rawHeaders, 'content-length') && !hasHeader(rawHeaders, 'transfer-encoding')) {
    rawHeaders.push('Content-Length', String(body.length));
  }
  const req: RequestLike = {
    method: init.method ?? 'GET',
    url: path,
    httpVersion: '1.1',
    rawHeaders,
    socket: {
      remoteAddress: init.remoteAddr ?? '127.0.0.1',
      remotePort: 50000,
      localAddress: '127.0.0.1',
      localPort: 80,
    },
  };
  const input = Readable.from(body === undefined || body.length === 0 ? [] : [body]);
  return buildEnv(req, { input, errors: options.errors ?? process.stderr });
}

/**
 * Runs one request through `app` without a socket, building the env with the same
 * `buildEnv` the node server uses, and behaving like it where a client could tell:
 * HEAD, 1xx, 204 and 304 get no body, a throwing app gets a 500, an invalid header a 500,
 * and `plank.finish` and `psgix.cleanup.handlers` run after the body is complete. An error
 * after the headers rejects, as a socket client would see the connection drop.
 */
export async function requestInProcess(
  app: App,
  path: string,
  init: TestRequestInit = {},
  options: InProcessOptions = {},
): Promise<TestResponse> {
  const env = testEnv(path, init, options);
  let result: AppResult;
  try {
    result = await app(env);
  } catch (err) {
    return serverError(env, err);
  }
  if (typeof result === 'function') return streaming(env, result);
  const head = checkHead(result);
  if (head) return serverError(env, head);
  return finish(env, result[0], withLength(env, result), await collect(env, result[0], result[2]));
}

// The server declares the length of a body held in memory; a test must see the same headers.
function withLength(_env: Env, res: Response): Headers {
  const [status, headers, body] = res;
  if (!Array.isArray(body) || statusWithoutBody(status)) return headers;
  if (hasHeader(headers, 'content-length') || hasHeader(headers, 'transfer-encoding')) return headers;
  let n = 0;
  for (const chunk of body) n += chunkLength(chunk);
  return [...headers, 'Content-Length', String(n)];
}

const errorBody = 'Internal Server Error';

// The 500 server-node's sendError sends, header for header: a test must not pass
// in-process and fail over a socket (or the reverse) on a HEAD or a Content-Length.
function serverError(env: Env, err: unknown): TestResponse {
  env['psgi.errors'].write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  const headers = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(errorBody.length)];
  return finish(env, 500, headers, env.REQUEST_METHOD === 'HEAD' ? [] : [Buffer.from(errorBody)]);
}

// Mirrors what node:http rejects, so an app that only passes in-process fails loudly here too.
function checkHead(res: unknown): Error | undefined {
  if (!Array.isArray(res) || res.length < 2)
    return new TypeError(`app returned ${String(res)}, not [status, headers, body]`);
  const [status, headers] = res as [unknown, unknown];
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999)
    return new RangeError(`invalid status ${String(status)}`);
  if (!Array.isArray(headers) || headers.length % 2 !== 0)
    return new TypeError('headers must be a flat [name, value, ...] array of even length');
  try {
    for (let i = 0; i < headers.length; i += 2) {
      validateHeaderName(String(headers[i]));
      validateHeaderValue(String(headers[i]), headers[i + 1]);
    }
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

function noBody(env: Env, status: number): boolean {
  return env.REQUEST_METHOD === 'HEAD' || statusWithoutBody(status);
}

async function collect(env: Env, status: number, body: Body): Promise<Buffer[]> {
  if (noBody(env, status)) {
    // Like the server: release the body without reading it, and never fail for it.
    try {
      discardBody(body);
    } catch {
      // Garbage either way, as on the server.
    }
    return [];
  }
  return chunksOf(bodyChunks(body));
}

async function chunksOf(chunks: AsyncIterable<Chunk>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(toBuffer(chunk));
  return out;
}

function toBuffer(chunk: Chunk): Buffer {
  return typeof chunk === 'string'
    ? Buffer.from(chunk, 'utf8')
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function finish(env: Env, status: number, headers: Headers, parts: Buffer[], aborted = false): TestResponse {
  const body = Buffer.concat(parts);
  const info: FinishInfo = { status, bodyBytes: body.length, headerBytes: 0, aborted };
  runHandlers(env, info);
  return makeResponse(status, [...headers], body, STATUS_CODES[status] ?? 'unknown');
}

function runHandlers(env: Env, info: FinishInfo): void {
  for (const handler of env['plank.finish'] ?? []) {
    try {
      handler(info);
    } catch (err) {
      env['psgi.errors'].write(`plank.finish handler failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    }
  }
  for (const handler of env['psgix.cleanup.handlers'] ?? []) {
    try {
      handler(env);
    } catch (err) {
      env['psgi.errors'].write(`psgix.cleanup handler failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    }
  }
}

function streaming(
  env: Env,
  app: (respond: (res: [number, Headers] | Response) => Writer) => void | Promise<void>,
): Promise<TestResponse> {
  return new Promise<TestResponse>((resolve, reject) => {
    let responded = false;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
    };
    const closedWriter: Writer = { aborted: false, write: () => Promise.resolve(), close: () => Promise.resolve() };
    const respond = (res: [number, Headers] | Response): Writer => {
      if (responded) throw new Error('respond() was called twice for one request');
      responded = true;
      const head = checkHead(res);
      if (head) {
        settle(() => resolve(serverError(env, head)));
        return closedWriter;
      }
      const [status, headers] = res;
      if (res.length === 3) {
        collect(env, status, (res as Response)[2]).then(
          (parts) => settle(() => resolve(finish(env, status, withLength(env, res as Response), parts))),
          (err: unknown) => settle(() => reject(err as Error)),
        );
        return closedWriter;
      }
      const parts: Buffer[] = [];
      const dropBody = noBody(env, status);
      let closed = false;
      return {
        aborted: false,
        write(chunk: Chunk): Promise<void> {
          if (closed) return Promise.reject(new Error('write() after close()'));
          if (!dropBody && chunkLength(chunk) > 0) parts.push(toBuffer(chunk));
          return Promise.resolve();
        },
        close(): Promise<void> {
          if (!closed) {
            closed = true;
            settle(() => resolve(finish(env, status, headers, parts)));
          }
          return Promise.resolve();
        },
      };
    };
    const fail = (err: unknown): void => {
      if (!responded) settle(() => resolve(serverError(env, err)));
      else
        settle(() =>
          reject(
            new Error('the app failed after sending the headers; a client would see the connection drop', {
              cause: err,
            }),
          ),
        );
    };
    try {
      const ret = app(respond);
      if (ret instanceof Promise) ret.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
}
