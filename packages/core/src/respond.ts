import { PlankError, show } from './errors.js';
import type { Headers, Response } from './types.js';

const CODE = 'PLANK_ERR_RESPONSE';

/**
 * A JSON response in one call: the value serialized, `Content-Type: application/json;
 * charset=utf-8`, status 200 unless given, and any extra headers after those.
 *
 * @example
 * ```ts
 * import { json } from '@plank/core';
 * export default () => json({ ok: true }, 201, ['Location', '/items/1']);
 * ```
 */
export function json(value: unknown, status = 200, headers: Headers = []): Response {
  const body = JSON.stringify(value);
  if (body === undefined) throw new PlankError(CODE, `json(${show(value)}): the value has no JSON form`);
  return [status, ['Content-Type', 'application/json; charset=utf-8', ...headers], [body]];
}

/**
 * A redirect in one call: `Location` and a 3xx status (302 Found unless given), with a short
 * text body for clients that show it, as express's `res.redirect` sends.
 *
 * @example
 * ```ts
 * import { redirect } from '@plank/core';
 * export default (env) => redirect(`${env.SCRIPT_NAME}/login`, 303);
 * ```
 */
export function redirect(location: string, status = 302): Response {
  if (!Number.isInteger(status) || status < 300 || status > 399) {
    throw new PlankError(CODE, `redirect(${show(location)}, ${show(status)}): the status must be a 3xx integer`);
  }
  if (typeof location !== 'string' || /[\r\n\0]/.test(location)) {
    throw new PlankError(CODE, `redirect(${show(location)}): the location must be a string without CR, LF or NUL`);
  }
  return [status, ['Location', location, 'Content-Type', 'text/plain; charset=utf-8'], [`Redirecting to ${location}`]];
}
