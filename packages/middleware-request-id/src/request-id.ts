import { randomUUID } from 'node:crypto';
import { check, checkOptions, header, responseCb, type Env, type Middleware } from '@plank/core';

export type RequestIdOptions = {
  /** The request and response header that carries the id. @default 'X-Request-Id' */
  header?: string;
  /**
   * Whether to believe the id a request brings: `true` (every peer, for an app that only a
   * proxy which sets or clears the header can reach), or `(env) => boolean`, typically a test
   * of the socket peer (`env.REMOTE_ADDR`, or `env['plank.reverse_proxy.peer_addr']` when
   * ReverseProxy ran first). Anyone else's id is replaced.
   * @default false (every id is generated here)
   */
  trusted?: boolean | ((env: Env) => boolean);
  /** Makes a new id. @default crypto.randomUUID */
  generate?: () => string;
  /** Send the id back in the response's header too (unless the app set one). @default true */
  responseHeader?: boolean;
};

/** Where the id is in env, whatever the header is called. */
export const REQUEST_ID = 'plank.request_id';

// What an id from outside may look like: printable, no spaces, so it cannot split or forge a
// log line or a header, and short enough for any log format.
const SAFE_ID = /^[A-Za-z0-9._~:@/+=-]{1,200}$/;
const TOKEN = /^[A-Za-z][A-Za-z0-9-]*$/;

/**
 * Gives every request an id: the one a trusted proxy sent in `X-Request-Id` (when it is a
 * safe token), or a new UUID. The id goes into `env['plank.request_id']`, into the request
 * header's env key (`HTTP_X_REQUEST_ID`, so AccessLog's `%{X-Request-Id}i` logs the final id,
 * never a client's forged one) and into the response header. By name: `enable('RequestId')`.
 *
 * @example
 * ```ts
 * import { requestId } from '@plank/middleware-request-id';
 * export default requestId({ trusted: (env) => env.REMOTE_ADDR === '10.0.0.2' })(
 *   (env) => [200, ['Content-Type', 'text/plain'], [`request ${env['plank.request_id']}`]],
 * );
 * ```
 */
export function requestId(options?: RequestIdOptions): Middleware {
  const o = checkOptions('RequestId', 'PLANK_ERR_REQUEST_ID_OPTION', options, {
    header: check.custom('must be a header name (letters, digits and dashes)', (v) =>
      typeof v === 'string' && TOKEN.test(v) ? v : undefined,
    ),
    trusted: check.either(check.boolean, check.function),
    generate: check.function,
    responseHeader: check.boolean,
  });
  const name = o.header ?? 'X-Request-Id';
  const key = `HTTP_${name.toUpperCase().replaceAll('-', '_')}` as `HTTP_${string}`;
  const trusted = o.trusted ?? false;
  const generate = (o.generate as (() => string) | undefined) ?? randomUUID;
  const respond = o.responseHeader ?? true;

  return (app) =>
    function requestIdApp(env) {
      const incoming = env[key];
      const believe = trusted === true || (typeof trusted === 'function' && trusted(env) === true);
      const id = believe && incoming !== undefined && SAFE_ID.test(incoming) ? incoming : generate();
      env[REQUEST_ID] = id;
      env[key] = id;
      if (!respond) return app(env);
      return responseCb(app(env), (res) => {
        if (!header.has(res[1], name)) header.push(res[1], name, id);
      });
    };
}

/** The name `enable('RequestId')` resolves to. */
export const plankMiddleware: { RequestId: typeof requestId } = { RequestId: requestId };
