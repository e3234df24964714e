import { PlankError, show } from './errors.js';
import { get, set } from './headers.js';
import type { Body, Headers, Response } from './types.js';

/** Attributes of a cookie set with {@link ResponseBuilder.cookie} (RFC 6265 §4.1, RFC 6265bis). */
export type CookieOptions = {
  domain?: string;
  /** @default none (the browser uses the request path's directory) */
  path?: string;
  /** A Date, or milliseconds since the epoch; sent as an IMF-fixdate. */
  expires?: Date | number;
  /** Seconds; 0 or less deletes the cookie at once. */
  maxAge?: number;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  partitioned?: boolean;
};

const CODE = 'PLANK_ERR_RESPONSE';
// RFC 9110 §5.6.2 token, which is also RFC 6265's cookie-name.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 6265 §4.1.1 av-octet: any CHAR except CTLs and ";".
const ATTRIBUTE = /^[\x20-\x3a\x3c-\x7e]*$/;

/**
 * Builds a response step by step, like Plack::Response, and turns it into the contract's
 * `[status, headers, body]` with {@link ResponseBuilder.finalize}. (The tuple type is called
 * `Response`, hence this class's name.) Headers stay a flat list, so repeats and order are kept.
 *
 * @example
 * ```ts
 * import { ResponseBuilder } from '@plank/core';
 * export default function app() {
 *   const res = new ResponseBuilder(200);
 *   res.contentType = 'text/plain; charset=utf-8';
 *   res.cookie('seen', '1', { path: '/', httpOnly: true, maxAge: 3600 });
 *   res.body = 'Hello';
 *   return res.finalize();
 * }
 * ```
 */
export class ResponseBuilder {
  status: number;
  /** Flat `[name, value, ...]`; edit it with the `header` helpers or the methods below. */
  headers: Headers;
  /** A string is sent as one UTF-8 chunk; any other Body as it is. @default [] */
  body: Body | string | undefined;
  readonly #cookies = new Map<string, string>();

  constructor(status = 200, headers: Headers = [], body?: Body | string) {
    this.status = status;
    this.headers = [...headers];
    this.body = body;
  }

  /** The first value of a header, case-insensitively. */
  header(name: string): string | undefined {
    return get(this.headers, name);
  }

  /** Replaces a header (every earlier value of it). Returns `this`. */
  setHeader(name: string, value: string): this {
    checkHeader(name, value);
    set(this.headers, name, value);
    return this;
  }

  /** Adds a header, keeping earlier ones. Returns `this`. */
  pushHeader(name: string, value: string): this {
    checkHeader(name, value);
    this.headers.push(name, value);
    return this;
  }

  get contentType(): string | undefined {
    return get(this.headers, 'Content-Type');
  }

  set contentType(value: string) {
    this.setHeader('Content-Type', value);
  }

  get location(): string | undefined {
    return get(this.headers, 'Location');
  }

  set location(value: string) {
    this.setHeader('Location', value);
  }

  /** Points the client elsewhere: sets `Location` and the status (302 Found unless given). */
  redirect(url: string, status = 302): this {
    if (!Number.isInteger(status) || status < 300 || status > 399) {
      throw new PlankError(CODE, `redirect(${show(url)}, ${show(status)}): the status must be a 3xx integer`);
    }
    this.location = url;
    this.status = status;
    return this;
  }

  /**
   * Sets a cookie, sent as its own `Set-Cookie` header by `finalize()`; setting the same
   * name again replaces it. The value is percent-encoded (as Plack does), so any text is
   * safe; names must be tokens. Returns `this`.
   */
  cookie(name: string, value: string, options: CookieOptions = {}): this {
    if (typeof name !== 'string' || !TOKEN.test(name))
      throw new PlankError(CODE, `cookie(${show(name)}): the name must be a token (RFC 6265 §4.1.1)`);
    this.#cookies.set(name, serializeCookie(name, value, options));
    return this;
  }

  /** The `[status, headers, body]` tuple for the server, with one `Set-Cookie` per cookie. */
  finalize(): Response {
    if (!Number.isInteger(this.status) || this.status < 100 || this.status > 999) {
      throw new PlankError(CODE, `finalize(): the status must be an integer from 100 to 999, got ${show(this.status)}`);
    }
    const headers = [...this.headers];
    for (const cookie of this.#cookies.values()) headers.push('Set-Cookie', cookie);
    const body = this.body === undefined ? [] : typeof this.body === 'string' ? [this.body] : this.body;
    return [this.status, headers, body];
  }
}

function checkHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new PlankError(CODE, `header name ${show(name)} is not a token`);
  if (typeof value !== 'string' || /[\r\n\0]/.test(value))
    throw new PlankError(CODE, `header ${name}: the value must be a string without CR, LF or NUL, got ${show(value)}`);
}

/** Serialises one `Set-Cookie` value (RFC 6265 §4.1.1). */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  let out = `${name}=${encodeURIComponent(value)}`;
  const attr = (key: string, v: string): void => {
    if (!ATTRIBUTE.test(v))
      throw new PlankError(
        CODE,
        `cookie(${show(name)}): ${key} must not contain control characters or ";", got ${show(v)}`,
      );
    out += `; ${key}=${v}`;
  };
  if (options.domain !== undefined) attr('Domain', options.domain);
  if (options.path !== undefined) attr('Path', options.path);
  if (options.expires !== undefined) {
    const date = options.expires instanceof Date ? options.expires : new Date(options.expires);
    if (Number.isNaN(date.getTime()))
      throw new PlankError(CODE, `cookie(${show(name)}): expires is not a valid date, got ${show(options.expires)}`);
    out += `; Expires=${date.toUTCString()}`;
  }
  if (options.maxAge !== undefined) {
    if (!Number.isFinite(options.maxAge))
      throw new PlankError(
        CODE,
        `cookie(${show(name)}): maxAge must be a number of seconds, got ${show(options.maxAge)}`,
      );
    out += `; Max-Age=${Math.floor(options.maxAge)}`;
  }
  if (options.secure) out += '; Secure';
  if (options.httpOnly) out += '; HttpOnly';
  if (options.sameSite !== undefined) {
    if (!['Strict', 'Lax', 'None'].includes(options.sameSite))
      throw new PlankError(
        CODE,
        `cookie(${show(name)}): sameSite must be "Strict", "Lax" or "None", got ${show(options.sameSite)}`,
      );
    out += `; SameSite=${options.sameSite}`;
  }
  if (options.partitioned) out += '; Partitioned';
  return out;
}
