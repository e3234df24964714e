import { set } from '../headers.js';
import { responseCb } from '../response-cb.js';
import type { Middleware } from '../types.js';
import { CORE_OPTION, check, checkOptions } from '../options.js';

export type RuntimeOptions = {
  /** The response header that carries the time. @default 'X-Runtime' */
  headerName?: string;
};

// Lint's rule for header names: an RFC 9110 token that starts with a letter and does not end in - or _.
const HEADER_NAME = check.custom('must be a header name (a token starting with a letter)', (v) =>
  typeof v === 'string' && /^[A-Za-z][!#$%&'*+.^`|~0-9A-Za-z_-]*$/.test(v) && !/[-_]$/.test(v) ? v : undefined,
);

/**
 * Sets a header (`X-Runtime`) to the seconds, with 6 decimals, between the request
 * reaching this middleware and the response head coming back from the app (for a
 * streaming response: when the app called its responder), as Plack::Middleware::Runtime.
 * By name: `enable('Runtime', { headerName })`.
 *
 * @example
 * ```ts
 * import { runtime } from '@plank/core';
 * export default runtime({ headerName: 'X-Response-Time' })(() => [200, [], ['ok']]);
 * ```
 */
export function runtime(options?: RuntimeOptions): Middleware {
  const { headerName = 'X-Runtime' } = checkOptions('Runtime', CORE_OPTION, options, { headerName: HEADER_NAME });
  return (app) =>
    function runtimeApp(env) {
      const start = performance.now();
      return responseCb(app(env), (res) => {
        set(res[1], headerName, ((performance.now() - start) / 1000).toFixed(6));
      });
    };
}
