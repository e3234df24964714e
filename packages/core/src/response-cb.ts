import { bodyChunks } from './body.js';
import { remove } from './headers.js';
import type { AppResult, Body, Chunk, Headers, Response, StreamingResponse, Writer } from './types.js';

/**
 * The response as a post-processor sees it. For a plain response `body` is set; for a
 * streaming one it is `undefined`, because the body has not been written yet. Change the
 * status or headers in place (`res[0] = 304`, `header.set(res[1], ...)`); for a plain
 * response you may also replace `res[2]`.
 */
export type ResponseHead = [status: number, headers: Headers, body?: Body];

/**
 * Sees every body chunk and returns what to send instead (`null`, `undefined` or `''`
 * sends nothing). Called one last time with `null` at the end of the body, so it can flush.
 */
export type BodyFilter = (chunk: Chunk | null) => Chunk | null | undefined;

export type ResponseCallback = (res: ResponseHead) => BodyFilter | void;

/**
 * Post-processes whatever an app returned (a response, a promise of one, or a streaming
 * response) without the caller having to know which: `cb` sees status and headers once;
 * if it returns a filter, every body chunk goes through it and Content-Length is dropped.
 * A plain result stays plain (no promise is added on the synchronous path).
 *
 * @example
 * ```ts
 * import { responseCb, header } from '@plank/core';
 * const poweredBy = (app) => (env) =>
 *   responseCb(app(env), (res) => { header.set(res[1], 'X-Powered-By', 'Plank'); });
 * ```
 */
export function responseCb(result: AppResult | Promise<AppResult>, cb: ResponseCallback): AppResult | Promise<AppResult> {
  if (result instanceof Promise) return result.then((r) => applyCb(r, cb));
  return applyCb(result, cb);
}

function applyCb(result: AppResult, cb: ResponseCallback): AppResult {
  if (typeof result === 'function') return wrapStreaming(result, cb);
  return applyToResponse(result, cb);
}

function applyToResponse(res: Response, cb: ResponseCallback): Response {
  const filter = cb(res as ResponseHead);
  if (typeof filter !== 'function') return res;
  remove(res[1], 'Content-Length');
  res[2] = filterBody(res[2], filter);
  return res;
}

function wrapStreaming(app: StreamingResponse, cb: ResponseCallback): StreamingResponse {
  return function streamingResponseCb(respond) {
    return app((res) => {
      if (res.length === 3) return respond(applyToResponse(res as Response, cb));
      const head: ResponseHead = [res[0], res[1]];
      const filter = cb(head);
      if (typeof filter !== 'function') return respond([head[0], head[1]]);
      remove(head[1], 'Content-Length');
      return filteredWriter(respond([head[0], head[1]]), filter);
    });
  };
}

function filteredWriter(inner: Writer, filter: BodyFilter): Writer {
  let closed = false;
  return {
    get aborted() {
      return inner.aborted;
    },
    write(chunk) {
      const out = filter(chunk);
      return out === null || out === undefined || out === '' ? Promise.resolve() : inner.write(out);
    },
    async close() {
      if (closed) return inner.close();
      closed = true;
      const out = filter(null);
      if (out !== null && out !== undefined && out !== '') await inner.write(out);
      return inner.close();
    },
  };
}

async function* filterBody(body: Body, filter: BodyFilter): AsyncGenerator<Chunk, void, undefined> {
  for await (const chunk of bodyChunks(body)) {
    const out = filter(chunk);
    if (out !== null && out !== undefined && out !== '') yield out;
  }
  const last = filter(null);
  if (last !== null && last !== undefined && last !== '') yield last;
}
