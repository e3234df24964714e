import { statSync } from 'node:fs';
import { chunkLength, isFileBody } from '../body.js';
import { has } from '../headers.js';
import { responseCb } from '../response-cb.js';
import type { Body, Middleware } from '../types.js';
import { statusWithoutBody } from '../discard.js';
import { CORE_OPTION, checkOptions } from '../options.js';

/** ContentLength takes no options; the type exists so every middleware has one. */
export type ContentLengthOptions = Record<never, never>;

/**
 * Adds `Content-Length` when the body's size is known without reading it: an array of
 * chunks (strings counted as UTF-8), or a file body (from `stat`, honouring `start`/`end`).
 * Never for 1xx, 204 or 304, when `Content-Length` or `Transfer-Encoding` is already set,
 * for streams and iterables, or for HEAD requests (whose body may already be empty).
 * By name: `enable('ContentLength')`.
 *
 * @example
 * ```ts
 * import { contentLength } from '@plank/core';
 * export default contentLength()((env) => [200, ['Content-Type', 'text/plain'], ['Hello']]);
 * ```
 */
export function contentLength(options?: ContentLengthOptions): Middleware {
  checkOptions('ContentLength', CORE_OPTION, options, {});
  return (app) =>
    function contentLengthApp(env) {
      if (env.REQUEST_METHOD === 'HEAD') return app(env);
      return responseCb(app(env), ([status, headers, body]) => {
        if (
          body === undefined ||
          statusWithoutBody(status) ||
          has(headers, 'Content-Length') ||
          has(headers, 'Transfer-Encoding')
        )
          return;
        const length = lengthOf(body);
        if (length !== undefined) headers.push('Content-Length', String(length));
      });
    };
}

/** The size of an array or file body, known without reading it; undefined for streams. */
export function lengthOf(body: Body): number | undefined {
  if (Array.isArray(body)) {
    let total = 0;
    for (const chunk of body) total += chunkLength(chunk);
    return total;
  }
  if (!isFileBody(body)) return undefined;
  let size: number;
  try {
    // stat, not open: it never blocks on a FIFO, and a file that is not regular has no
    // size worth announcing (the server decides what to do with it).
    const stat = statSync(body.path);
    if (!stat.isFile()) return undefined;
    size = stat.size;
  } catch {
    return undefined;
  }
  const start = body.start ?? 0;
  const end = Math.min(body.end ?? size - 1, size - 1);
  return Math.max(0, end - start + 1);
}
