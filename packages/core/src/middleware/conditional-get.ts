import { get, remove } from '../headers.js';
import { responseCb } from '../response-cb.js';
import type { Headers, Middleware } from '../types.js';
import { discardBody } from '../discard.js';
import { CORE_OPTION, checkOptions } from '../options.js';

/** ConditionalGET takes no options; the type exists so every middleware has one. */
export type ConditionalGetOptions = Record<never, never>;

// RFC 9110 §15.4.5: a 304 carries the validators and caching fields a 200 would, but no
// content metadata that describes a body it does not have.
const DROPPED_ON_304 = ['Content-Type', 'Content-Length', 'Content-Range', 'Content-Disposition', 'Transfer-Encoding'];

/**
 * Turns a `200` answer to a GET or HEAD into `304 Not Modified` (no body, no entity headers)
 * when the request's validators match the response's (RFC 9110 §13.1.2, §13.1.3): an
 * `If-None-Match` list that weakly matches `ETag` (or is `*`), else an `If-Modified-Since`
 * date no older than `Last-Modified`. `If-None-Match` wins over `If-Modified-Since`
 * (§13.2.2), and an invalid date is ignored. By name: `enable('ConditionalGET')`.
 *
 * @example
 * ```ts
 * import { conditionalGet } from '@plank/core';
 * export default conditionalGet()(() => [200, ['ETag', '"v1"', 'Content-Type', 'text/plain'], ['Hello']]);
 * ```
 */
export function conditionalGet(options?: ConditionalGetOptions): Middleware {
  checkOptions('ConditionalGET', CORE_OPTION, options, {});
  return (app) =>
    function conditionalGetApp(env) {
      const method = env.REQUEST_METHOD;
      const ifNoneMatch = env.HTTP_IF_NONE_MATCH;
      const ifModifiedSince = env.HTTP_IF_MODIFIED_SINCE;
      if ((method !== 'GET' && method !== 'HEAD') || (ifNoneMatch === undefined && ifModifiedSince === undefined))
        return app(env);
      return responseCb(app(env), (res) => {
        if (res[0] !== 200 || !notModified(res[1], ifNoneMatch, ifModifiedSince)) return;
        res[0] = 304;
        for (const name of DROPPED_ON_304) remove(res[1], name);
        if (res[2] !== undefined) {
          discardBody(res[2]);
          res[2] = [];
          return;
        }
        return () => null;
      });
    };
}

function notModified(headers: Headers, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): boolean {
  if (ifNoneMatch !== undefined) {
    // §13.1.2: "*" matches any current representation, and a 200 is one.
    if (ifNoneMatch.trim() === '*') return true;
    const etag = get(headers, 'ETag');
    if (etag === undefined) return false;
    const current = opaque(etag.trim());
    // §8.8.3.2: If-None-Match uses the weak comparison, so W/ prefixes are ignored.
    for (const m of ifNoneMatch.matchAll(/(?:W\/)?"[^"]*"/g)) if (opaque(m[0]) === current) return true;
    return false;
  }
  const lastModified = get(headers, 'Last-Modified');
  if (lastModified === undefined || ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  const modified = Date.parse(lastModified);
  if (Number.isNaN(since) || Number.isNaN(modified)) return false;
  return modified <= since;
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
