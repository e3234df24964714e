import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import {
  check,
  checkOptions,
  discardBody,
  header,
  PlankError,
  responseCb,
  type Env,
  type Middleware,
  type Response,
} from '@plank/core';

/**
 * Error statuses (400 to 599) mapped to a file path, or, with `subrequest`, to a path of the
 * app: `{ 404: '/errors/404.html', 500: 'htdocs/500.html' }`. Plack takes them at the top level
 * too, so `enable('ErrorDocument', { 404: '/errors/404', subrequest: true })` works.
 */
export type ErrorDocumentOptions = {
  /** Fetch each page with a GET to the app (its path) instead of reading a file. @default false */
  subrequest?: boolean;
  /** The pages by status, as an alternative to top-level status keys. */
  documents?: Readonly<Record<number, string>>;
  [status: number]: string;
};

const CODE = 'PLANK_ERR_ERROR_DOCUMENT_OPTION';
const MAX_FILE = 1024 * 1024;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
};
// Headers that describe the app's own body and would lie about the error page. The rest
// (Set-Cookie, WWW-Authenticate, Allow, Retry-After, Vary...) still matter to the client.
const BODY_HEADERS = ['Content-Type', 'Content-Length', 'Content-Encoding', 'Content-Range', 'ETag', 'Last-Modified'];
const BODY_HEADER_SET = new Set(BODY_HEADERS.map((h) => h.toLowerCase()));

/**
 * Replaces the body of error responses (400-599) with a page of your own, as
 * Plack::Middleware::ErrorDocument: from a file, or, with `subrequest`, from a GET to the app
 * itself (so Static or a route can serve it, and the original request stays readable in
 * `env['psgix.errordocument.PATH_INFO']` and the other `psgix.errordocument.*` keys). The
 * status and the headers that are not about the body are kept. By name:
 * `enable('ErrorDocument', { 404: 'htdocs/404.html' })`.
 *
 * @example
 * ```ts
 * import { errorDocument } from '@plank/middleware-error-document';
 * export default errorDocument({ 404: '/errors/404.html', subrequest: true })((env) =>
 *   env.PATH_INFO === '/errors/404.html'
 *     ? [200, ['Content-Type', 'text/html'], ['<h1>Nothing here</h1>']]
 *     : [404, ['Content-Type', 'text/plain'], ['not found']],
 * );
 * ```
 */
export function errorDocument(options: ErrorDocumentOptions): Middleware {
  const statuses: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) (/^\d+$/.test(key) ? statuses : rest)[key] = value;
  const o = checkOptions('ErrorDocument', CODE, options === undefined ? undefined : rest, {
    subrequest: check.boolean,
    documents: check.custom('must be an object of statuses to paths', (v) =>
      typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined,
    ),
  });
  const pages = new Map<number, string>();
  for (const [key, value] of [...Object.entries(o.documents ?? {}), ...Object.entries(statuses)]) {
    const status = Number(key);
    if (!Number.isInteger(status) || status < 400 || status > 599)
      throw new PlankError(CODE, `ErrorDocument: status ${JSON.stringify(key)} is not an error status (400 to 599)`);
    if (typeof value !== 'string' || value === '' || value.includes('\0'))
      throw new PlankError(
        CODE,
        `ErrorDocument: option "${key}" must be a non-empty path, got ${JSON.stringify(value)}`,
      );
    if (o.subrequest && !value.startsWith('/'))
      throw new PlankError(
        CODE,
        `ErrorDocument: option "${key}" must be a path of the app starting with "/" with subrequest, got ${JSON.stringify(value)}`,
      );
    pages.set(status, value);
  }
  if (pages.size === 0)
    throw new PlankError(CODE, 'ErrorDocument: no error status is mapped to a page (e.g. { 404: "/errors/404.html" })');
  return o.subrequest ? viaSubrequest(pages) : fromFiles(pages);
}

// Pages are read once, here: error pages are small, and a missing or odd file is then a
// start-up error rather than a second failure while answering the first.
function fromFiles(paths: Map<number, string>): Middleware {
  const pages = new Map<number, { type: string; body: Buffer }>();
  for (const [status, path] of paths) {
    let body: Buffer;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > MAX_FILE) throw new Error(`larger than ${MAX_FILE} bytes`);
      body = readFileSync(path);
    } catch (err) {
      throw new PlankError(
        'PLANK_ERR_ERROR_DOCUMENT_FILE',
        `ErrorDocument: option "${status}" must be a readable regular file, got ${JSON.stringify(path)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    pages.set(status, { type: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream', body });
  }
  return (app) =>
    function errorDocumentApp(env) {
      return responseCb(
        app(env),
        (res) => {
          const page = pages.get(res[0]);
          if (page === undefined) return;
          setBodyHeaders(res[1], page.type, page.body.length);
          if (res[2] !== undefined) {
            discardBody(res[2]);
            res[2] = [page.body];
            return;
          }
          // A streaming error response: its writes are dropped and the page sent at the end.
          return (chunk) => (chunk === null ? page.body : null);
        },
        { keepContentLength: true },
      );
    };
}

// A sub-request's answer may come later than responseCb's synchronous callback can wait, so
// plain responses are handled here; a streaming error response has already chosen its body
// and goes out as it is (Plack's subrequest does not handle them either).
function viaSubrequest(paths: Map<number, string>): Middleware {
  return (app) =>
    function errorDocumentApp(env) {
      return settle(app(env), (res) => {
        if (typeof res === 'function') return res;
        const path = paths.get(res[0]);
        if (path === undefined) return res;
        return settle(app(subEnv(env, path)), (sub) => {
          if (typeof sub === 'function' || sub[0] !== 200) {
            if (typeof sub !== 'function') discardBody(sub[2]);
            return res;
          }
          discardBody(res[2]);
          const kept: string[] = [];
          for (let i = 0; i < res[1].length; i += 2) {
            const name = res[1][i] as string;
            if (!BODY_HEADER_SET.has(name.toLowerCase())) kept.push(name, res[1][i + 1] as string);
          }
          for (const name of BODY_HEADERS) {
            const value = header.get(sub[1], name);
            if (value !== undefined) kept.push(name, value);
          }
          return [res[0], kept, sub[2]] as Response;
        });
      });
    };
}

function subEnv(env: Env, path: string): Env {
  const sub: Env = { ...env };
  for (const [key, value] of Object.entries(env))
    if (!key.startsWith('psgi')) (sub as Record<string, unknown>)[`psgix.errordocument.${key}`] = value;
  sub.REQUEST_METHOD = 'GET';
  sub.PATH_INFO = path;
  sub.REQUEST_URI = `${env.SCRIPT_NAME}${path}`;
  sub.QUERY_STRING = '';
  delete sub.CONTENT_LENGTH;
  delete sub.CONTENT_TYPE;
  // The original body belongs to the original request: the sub-request has none.
  sub['psgi.input'] = Readable.from([]);
  return sub;
}

function setBodyHeaders(headers: string[], type: string, length: number): void {
  for (const name of BODY_HEADERS) header.remove(headers, name);
  headers.push('Content-Type', type, 'Content-Length', String(length));
}

function settle<T, U>(value: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** The name `enable('ErrorDocument')` resolves to. */
export const plankMiddleware: { ErrorDocument: typeof errorDocument } = { ErrorDocument: errorDocument };
