import { has } from '../headers.js';
import { responseCb } from '../response-cb.js';
import type { Middleware } from '../types.js';
import { lengthOf } from './content-length.js';
import { discardBody, statusWithoutBody } from '../discard.js';
import { CORE_OPTION, checkOptions } from '../options.js';

/** Head takes no options; the type exists so every middleware has one. */
export type HeadOptions = Record<never, never>;

const KEEP_LENGTH = { keepContentLength: true } as const;
const dropAll = (): null => null;

/**
 * Answers HEAD requests with the headers the app gives and no body (RFC 9110 §9.3.2),
 * so apps can treat HEAD as GET. `Content-Length` is kept, for streaming responses too;
 * for an array or file body without one it is added, since the server can no longer count
 * the body it would have sent for GET. The dropped body is released (streams destroyed).
 * By name: `enable('Head')`.
 *
 * @example
 * ```ts
 * import { head } from '@plank/core';
 * export default head()((env) => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], ['Hello']]);
 * ```
 */
export function head(options?: HeadOptions): Middleware {
  checkOptions('Head', CORE_OPTION, options, {});
  return (app) =>
    function headApp(env) {
      if (env.REQUEST_METHOD !== 'HEAD') return app(env);
      return responseCb(
        app(env),
        (res) => {
          if (res[2] !== undefined) {
            const [status, headers, body] = res;
            if (!statusWithoutBody(status) && !has(headers, 'Content-Length') && !has(headers, 'Transfer-Encoding')) {
              const length = lengthOf(body);
              if (length !== undefined) headers.push('Content-Length', String(length));
            }
            discardBody(body);
            res[2] = [];
            return;
          }
          // A streaming body can only be filtered away. Its Content-Length stays: HEAD carries
          // the length GET would have (RFC 9110 §9.3.2), not the zero bytes sent.
          return dropAll;
        },
        KEEP_LENGTH,
      );
    };
}
