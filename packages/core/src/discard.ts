import { isFileBody, isReadable, isWebStream } from './body.js';
import type { Body, Chunk } from './types.js';

/**
 * Releases a body that will not be sent (HEAD, 1xx, 204, 304) without reading it: a
 * stream holds a descriptor or a producer until someone destroys it, so dropping the
 * reference is not enough. A Readable is destroyed, a web stream cancelled, an iterator's
 * `return()` called; arrays and file bodies hold nothing (a file is never opened). Servers
 * and middleware that drop a body use this one rule.
 *
 * @example
 * ```ts
 * import { discardBody, statusWithoutBody } from '@plank/core';
 * import type { Response } from '@plank/core';
 * function dropBody(env: { REQUEST_METHOD: string }, res: Response): Response {
 *   if (env.REQUEST_METHOD !== 'HEAD' && !statusWithoutBody(res[0])) return res;
 *   discardBody(res[2]);
 *   return [res[0], res[1], []];
 * }
 * ```
 */
export function discardBody(body: Body): void {
  if (Array.isArray(body) || isFileBody(body)) return;
  if (isReadable(body)) {
    body.destroy();
  } else if (isWebStream(body)) {
    body.cancel().catch(() => {});
  } else if (typeof body === 'object' && body !== null) {
    const iterable = body as Partial<AsyncIterable<Chunk> & Iterable<Chunk>>;
    const it = iterable[Symbol.asyncIterator]?.() ?? iterable[Symbol.iterator]?.();
    Promise.resolve(it?.return?.()).catch(() => {});
  }
}

/**
 * True for the statuses whose responses never have a body: 1xx, 204 and 304 (RFC 9110
 * §6.4.1). A HEAD request has none either, whatever the status; that is the method's rule,
 * not the status's, so callers check `REQUEST_METHOD` themselves.
 *
 * @example
 * ```ts
 * import { statusWithoutBody } from '@plank/core';
 * statusWithoutBody(304); // true
 * statusWithoutBody(200); // false
 * ```
 */
export function statusWithoutBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}
