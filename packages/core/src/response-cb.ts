import { bodyChunks } from './body.js';
import { remove } from './headers.js';
import { discardBody } from './discard.js';
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
 * sends nothing). Called one last time with `null` at the end of the body, so it can flush;
 * also when the filtered body is dropped unread (HEAD, 304), its output then going nowhere.
 */
export type BodyFilter = (chunk: Chunk | null) => Chunk | null | undefined;

export type ResponseCallback = (res: ResponseHead) => BodyFilter | void;

/** How {@link responseCb} treats the response around a body filter. */
export type ResponseCbOptions = {
  /**
   * Keep `Content-Length` when `cb` returns a filter. Set it when the header stays true
   * whatever the filter does: the filter only watches the bytes (counting them, for a log)
   * and returns each chunk unchanged, or, as Head does, the length is the one a GET would
   * get and is meant to be kept although no body is sent. A filter that changes bytes must
   * leave it unset, or the length would be a lie.
   * @default false
   */
  keepContentLength?: boolean;
};

/**
 * Post-processes whatever an app returned (a response, a promise of one, or a streaming
 * response) without the caller having to know which: `cb` sees status and headers once;
 * if it returns a filter, every body chunk goes through it and Content-Length is dropped
 * (unless `options.keepContentLength`, for a filter that only watches). A plain result
 * stays plain (no promise is added on the synchronous path).
 *
 * @example
 * ```ts
 * import { responseCb, header, chunkLength } from '@plank/core';
 * const poweredBy = (app) => (env) =>
 *   responseCb(app(env), (res) => { header.set(res[1], 'X-Powered-By', 'Plank'); });
 * // A filter that only counts: the bytes, and so Content-Length, stay as they are.
 * const counted = (app) => (env) =>
 *   responseCb(app(env), () => {
 *     let bytes = 0;
 *     return (chunk) => {
 *       if (chunk === null) console.log(`${bytes} bytes`);
 *       else bytes += chunkLength(chunk);
 *       return chunk;
 *     };
 *   }, { keepContentLength: true });
 * ```
 */
export function responseCb(
  result: AppResult | Promise<AppResult>,
  cb: ResponseCallback,
  options?: ResponseCbOptions,
): AppResult | Promise<AppResult> {
  const keep = options?.keepContentLength === true;
  if (result instanceof Promise) return result.then((r) => applyCb(r, cb, keep));
  return applyCb(result, cb, keep);
}

function applyCb(result: AppResult, cb: ResponseCallback, keep: boolean): AppResult {
  if (typeof result === 'function') return wrapStreaming(result, cb, keep);
  return applyToResponse(result, cb, keep);
}

function applyToResponse(res: Response, cb: ResponseCallback, keep: boolean): Response {
  const filter = cb(res as ResponseHead);
  if (typeof filter !== 'function') return res;
  if (!keep) remove(res[1], 'Content-Length');
  res[2] = filterBody(res[2], filter);
  return res;
}

function wrapStreaming(app: StreamingResponse, cb: ResponseCallback, keep: boolean): StreamingResponse {
  return function streamingResponseCb(respond) {
    return app((res) => {
      if (res.length === 3) return respond(applyToResponse(res as Response, cb, keep));
      const head: ResponseHead = [res[0], res[1]];
      const filter = cb(head);
      if (typeof filter !== 'function') return respond([head[0], head[1]]);
      if (!keep) remove(head[1], 'Content-Length');
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

/**
 * The filtered body. A generator that has not started ignores `return()`, so a filtered
 * body dropped unread (by Head or ConditionalGET further out) would leave the app's stream
 * open and the filter never told of the end: here `return()` before the first read
 * releases the app's body and calls the filter with `null`, its output going nowhere.
 */
function filterBody(body: Body, filter: BodyFilter): AsyncIterableIterator<Chunk> {
  const chunks = filterChunks(body, filter);
  let started = false;
  return {
    next() {
      started = true;
      return chunks.next();
    },
    return(value?: unknown) {
      if (!started) {
        started = true;
        try {
          discardBody(body);
          filter(null);
        } catch (err) {
          void chunks.return(undefined);
          return Promise.reject(err);
        }
      }
      return chunks.return(value as undefined);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* filterChunks(body: Body, filter: BodyFilter): AsyncGenerator<Chunk, void, undefined> {
  for await (const chunk of bodyChunks(body)) {
    const out = filter(chunk);
    if (out !== null && out !== undefined && out !== '') yield out;
  }
  const last = filter(null);
  if (last !== null && last !== undefined && last !== '') yield last;
}
