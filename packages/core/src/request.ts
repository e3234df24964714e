import type { Readable } from 'node:stream';
import { encodePath } from './encode-path.js';
import { PlankError } from './errors.js';
import { CORE_OPTION, check, checkOptions } from './options.js';
import type { Env } from './types.js';

export type RequestOptions = {
  /** The most body bytes `bytes()`, `text()`, `json()` and `form()` will read. @default 1048576 (1 MiB) */
  maxBodySize?: number;
};

// The body can be read from psgi.input only once, so it is kept in the env, where every
// Request made for the same env (by each middleware layer) finds it, as Plack does.
const BODY_KEY = 'plank.request.body';

/**
 * A read-only view of the env with the conveniences of Plack::Request: nothing is parsed
 * until asked, and what is parsed is kept. Env values are byte strings; the accessors
 * noted as *decoded* turn them into text (UTF-8), the others return them as they are.
 *
 * @example
 * ```ts
 * import { Request } from '@plank/core';
 * export default async function app(env) {
 *   const req = new Request(env);
 *   const name = req.query.get('name') ?? 'world';
 *   return [200, ['Content-Type', 'text/plain; charset=utf-8'], [`Hello ${name} from ${req.path}`]];
 * }
 * ```
 */
export class Request {
  readonly env: Env;
  readonly #maxBodySize: number;
  #query: URLSearchParams | undefined;
  #cookies: Record<string, string> | undefined;

  constructor(env: Env, options: RequestOptions = {}) {
    const { maxBodySize = 1024 * 1024 } = checkOptions('new Request(env, options)', CORE_OPTION, options, {
      maxBodySize: check.integer({ min: 0 }),
    });
    this.env = env;
    this.#maxBodySize = maxBodySize;
  }

  /** `GET`, `POST`, ... */
  get method(): string {
    return this.env.REQUEST_METHOD;
  }

  /** The path below the mount point, *decoded* as UTF-8 (invalid bytes become U+FFFD); `/` when empty. */
  get path(): string {
    return decodeBytes(this.env.PATH_INFO || '/');
  }

  /** PATH_INFO as the server gave it: percent-decoded bytes, latin1. */
  get pathInfo(): string {
    return this.env.PATH_INFO;
  }

  /** The mount point (`''` at the root). */
  get scriptName(): string {
    return this.env.SCRIPT_NAME;
  }

  /** The request target as sent, undecoded. */
  get requestUri(): string {
    return this.env.REQUEST_URI;
  }

  /** The raw query string, without `?`. */
  get queryString(): string {
    return this.env.QUERY_STRING;
  }

  /** `http` or `https`. */
  get scheme(): string {
    return this.env['psgi.url_scheme'];
  }

  /** True over HTTPS (as the server, or a ReverseProxy in front of the app, says). */
  get secure(): boolean {
    return this.env['psgi.url_scheme'] === 'https';
  }

  /** The Host header, else `SERVER_NAME:SERVER_PORT`. */
  get host(): string {
    return this.env.HTTP_HOST || `${this.env.SERVER_NAME}:${this.env.SERVER_PORT}`;
  }

  get protocol(): string {
    return this.env.SERVER_PROTOCOL;
  }

  get remoteAddr(): string {
    return this.env.REMOTE_ADDR;
  }

  get remotePort(): number | undefined {
    return this.env.REMOTE_PORT ? Number(this.env.REMOTE_PORT) : undefined;
  }

  /** The whole Content-Type header (`text/html; charset=utf-8`), if any. */
  get contentType(): string | undefined {
    return this.env.CONTENT_TYPE;
  }

  /** The media type alone, lower-cased, without parameters (`text/html`). */
  get mediaType(): string | undefined {
    const type = this.env.CONTENT_TYPE;
    return type === undefined ? undefined : (type.split(';')[0] as string).trim().toLowerCase();
  }

  /** Content-Length as a number, `undefined` when absent. */
  get contentLength(): number | undefined {
    const length = this.env.CONTENT_LENGTH;
    return length === undefined || length === '' ? undefined : Number(length);
  }

  get userAgent(): string | undefined {
    return this.env.HTTP_USER_AGENT;
  }

  get referer(): string | undefined {
    return this.env.HTTP_REFERER;
  }

  /** A request header by name, case-insensitively, as bytes (latin1); repeats are joined with `", "`. */
  header(name: string): string | undefined {
    const key = name.toUpperCase().replace(/-/g, '_');
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') return this.env[key];
    return this.env[`HTTP_${key}`];
  }

  /** The query parameters, *decoded* (multi-valued: `query.getAll('tag')`). Parsed on first use. */
  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(decodeBytes(this.env.QUERY_STRING)));
  }

  /**
   * The cookies the client sent, by name, *decoded* (RFC 6265 §5.4 pairs; values
   * percent-decoded and unquoted). When a name repeats, the first wins: browsers send the
   * most specific path first (§5.4 step 2).
   */
  get cookies(): Record<string, string> {
    return (this.#cookies ??= parseCookies(this.env.HTTP_COOKIE));
  }

  /**
   * The URL the app was reached at, rebuilt like Plack's `uri`: scheme, Host (else
   * SERVER_NAME and SERVER_PORT), SCRIPT_NAME, PATH_INFO (percent-encoded again) and the
   * query string. A new URL object each call.
   */
  uri(): URL {
    const path = encodePath(this.env.SCRIPT_NAME + this.env.PATH_INFO) || '/';
    const query = this.env.QUERY_STRING === '' ? '' : `?${this.env.QUERY_STRING}`;
    return this.#url(`${path}${query}`);
  }

  /** The URL of the app's root (its mount point), like Plack's `base`. */
  base(): URL {
    return this.#url(encodePath(this.env.SCRIPT_NAME) || '/');
  }

  #url(rest: string): URL {
    const host = this.env.HTTP_HOST;
    if (host) {
      // A Host header is client input; when it is not a valid authority, fall back to
      // what the server knows rather than fail.
      try {
        return new URL(`${this.scheme}://${host}${rest}`);
      } catch {}
    }
    return new URL(`${this.scheme}://${this.env.SERVER_NAME}:${this.env.SERVER_PORT}${rest}`);
  }

  /**
   * The raw body, read from `psgi.input` once (then kept in the env for every Request on
   * it). Rejects with `PLANK_ERR_BODY_TOO_LARGE` (and `status: 413`, which HTTPExceptions
   * answers) when Content-Length or the bytes read exceed `maxBodySize`.
   */
  bytes(): Promise<Buffer> {
    const env = this.env as unknown as Record<string, unknown>;
    let body = env[BODY_KEY] as Promise<Buffer> | undefined;
    if (body === undefined) {
      body = readAll(this.env['psgi.input'], this.#maxBodySize, this.contentLength);
      env[BODY_KEY] = body;
    }
    return body;
  }

  /** The body *decoded* as UTF-8. */
  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  /** The body parsed as JSON; invalid JSON rejects with `PLANK_ERR_BODY_JSON` (`status: 400`). */
  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (err) {
      throw httpError('PLANK_ERR_BODY_JSON', 400, `Request body is not valid JSON: ${(err as Error).message}`, err);
    }
  }

  /**
   * The `application/x-www-form-urlencoded` body, *decoded*. Other content types give
   * empty parameters without reading the body, as Plack's `body_parameters` does.
   */
  async form(): Promise<URLSearchParams> {
    const type = this.mediaType;
    if (type !== undefined && type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
    return new URLSearchParams(await this.text());
  }
}

function decodeBytes(s: string): string {
  // Pure ASCII is the common case and is its own UTF-8 decoding.
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!header) return out;
  for (const pair of header.split(/;|, (?=[^=;,\s]+=)/)) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name === '' || name in out) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[decodeBytes(name)] = decodeCookieValue(value);
  }
  return out;
}

function decodeCookieValue(value: string): string {
  const text = decodeBytes(value);
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function httpError(code: string, status: number, message: string, cause?: unknown): PlankError {
  return Object.assign(new PlankError(code, message, cause === undefined ? undefined : { cause }), { status });
}

function readAll(input: Readable, max: number, declared: number | undefined): Promise<Buffer> {
  if (declared !== undefined && declared > max) {
    return Promise.reject(
      httpError(
        'PLANK_ERR_BODY_TOO_LARGE',
        413,
        `Request body of ${declared} bytes (Content-Length) exceeds the limit of ${max} bytes`,
      ),
    );
  }
  if (input.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      size += buf.length;
      if (size > max) {
        cleanup();
        // Paused, not destroyed: the server still owns the connection and drains the rest
        // after the response (node:http does), so a 413 can reach the client.
        input.pause();
        reject(httpError('PLANK_ERR_BODY_TOO_LARGE', 413, `Request body exceeds the limit of ${max} bytes`));
        return;
      }
      parts.push(buf);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(parts, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}
