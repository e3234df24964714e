import { PlankError, show } from '../errors.js';
import type { Env, Headers, Middleware, Response } from '../types.js';
import { catchErrors } from '../catch.js';
import { CORE_OPTION, check, checkOptions } from '../options.js';
import { statusText } from '../status-text.js';

/**
 * An error that is an HTTP answer: `throw new HttpException(404)` anywhere below the
 * HTTPExceptions middleware and the client gets `404 Not Found`. The message is the
 * response body (default: the reason phrase). A 3xx needs a `location`.
 *
 * @example
 * ```ts
 * import { HttpException } from '@plank/core';
 * throw new HttpException(403, 'Members only', { headers: ['WWW-Authenticate', 'Basic realm="x"'] });
 * ```
 */
export class HttpException extends Error {
  readonly status: number;
  readonly headers: Headers;
  constructor(
    status: number,
    message?: string,
    options: { headers?: Headers; location?: string; cause?: unknown } = {},
  ) {
    if (!Number.isInteger(status) || status < 300 || status > 599) {
      throw new PlankError(
        'PLANK_ERR_HTTP_EXCEPTION',
        `new HttpException(${show(status)}): the status must be an integer from 300 to 599`,
      );
    }
    if (status < 400 && options.location === undefined) {
      throw new PlankError(
        'PLANK_ERR_HTTP_EXCEPTION',
        `new HttpException(${status}): a redirect needs options.location`,
      );
    }
    super(message ?? statusText(status), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpException';
    this.status = status;
    this.headers = [...(options.headers ?? [])];
    if (options.location !== undefined) this.headers.push('Location', options.location);
  }
}

export type HttpExceptionsOptions = {
  /** Rethrow 5xx exceptions (after nothing else) so an outer StackTrace or the server reports them. @default false */
  rethrow?: boolean;
};

/**
 * Turns thrown HTTP errors into responses, as Plack::Middleware::HTTPExceptions: an
 * {@link HttpException}, or any object with an integer `status`, `statusCode` or `code`
 * from 400 to 599 (or 3xx with a `location`), as http-errors and many libraries throw.
 * Anything else is rethrown untouched. The body is the message as `text/plain` for
 * `HttpException`s and for 4xx errors; other 5xx errors answer the reason phrase only, so
 * internals do not leak (an `expose: true|false` property overrides this, as in http-errors).
 * By name: `enable('HTTPExceptions')`.
 *
 * @example
 * ```ts
 * import { httpExceptions, HttpException } from '@plank/core';
 * export default httpExceptions()((env) => {
 *   if (env.PATH_INFO !== '/') throw new HttpException(404);
 *   return [200, ['Content-Type', 'text/plain'], ['home']];
 * });
 * ```
 */
export function httpExceptions(options?: HttpExceptionsOptions): Middleware {
  const { rethrow = false } = checkOptions('HTTPExceptions', CORE_OPTION, options, { rethrow: check.boolean });
  return (app) =>
    function httpExceptionsApp(env: Env) {
      return catchErrors(
        () => app(env),
        (err) => {
          const status = statusOf(err);
          if (status === undefined || (rethrow && status >= 500)) throw err;
          return toResponse(err as Record<string, unknown>, status);
        },
      );
    };
}

function statusOf(err: unknown): number | undefined {
  if (err instanceof HttpException) return err.status;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Record<string, unknown>;
  for (const key of ['status', 'statusCode', 'code']) {
    const v = e[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) continue;
    if (v >= 400 && v <= 599) return v;
    if (v >= 300 && v <= 399 && locationOf(e) !== undefined) return v;
  }
  return undefined;
}

function locationOf(e: Record<string, unknown>): string | undefined {
  if (typeof e.location === 'string') return e.location;
  const headers = e.headers;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2)
      if (String(headers[i]).toLowerCase() === 'location') return String(headers[i + 1]);
  }
  return undefined;
}

function toResponse(e: Record<string, unknown>, status: number): Response {
  const headers: Headers = [];
  if (e instanceof HttpException) headers.push(...e.headers);
  else {
    const location = locationOf(e);
    if (location !== undefined) headers.push('Location', location);
  }
  const expose = typeof e.expose === 'boolean' ? e.expose : e instanceof HttpException || status < 500;
  const text = expose && typeof e.message === 'string' && e.message !== '' ? e.message : statusText(status);
  const body = Buffer.from(text, 'utf8');
  headers.push('Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length));
  return [status, headers, [body]];
}
