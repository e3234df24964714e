import { resolve } from 'node:path';
import {
  check,
  checkOptions,
  discardBody,
  header,
  isFileBody,
  isReadable,
  PlankError,
  responseCb,
  type Env,
  type Middleware,
} from '@plank/core';

/** The header the front end reads: Apache's mod_xsendfile, lighttpd's, or nginx's. */
export type SendfileType = 'X-Sendfile' | 'X-Lighttpd-Send-File' | 'X-Accel-Redirect';

export type XSendfileOptions = {
  /** Which header to send. Without it, only a trusted proxy's `X-Sendfile-Type` request header turns this on. */
  type?: SendfileType;
  /**
   * For X-Accel-Redirect: file path prefixes and the internal nginx locations that serve
   * them, `{ '/var/www/files/': '/protected/' }`. A file outside every prefix is served by
   * the app as usual.
   */
  mapping?: Readonly<Record<string, string>>;
  /**
   * Whether to believe the proxy's `X-Sendfile-Type` and `X-Accel-Mapping` request headers
   * (Rack and Plack's convention). A client that reaches the app directly must not be able to
   * switch this on or choose the mapping. @default false
   */
  trusted?: boolean | ((env: Env) => boolean);
};

const TYPES: readonly SendfileType[] = ['X-Sendfile', 'X-Lighttpd-Send-File', 'X-Accel-Redirect'];
const CODE = 'PLANK_ERR_XSENDFILE_OPTION';

/**
 * Lets the front-end server send files: when the app answers 200 with a whole file (a
 * `FileBody` such as Static's, or an `fs` read stream), the body is dropped and the front end
 * told where the file is, in `X-Sendfile` (Apache, lighttpd) or `X-Accel-Redirect` (nginx,
 * through `mapping`), as Plack::Middleware::XSendfile and Rack::Sendfile. The front end then
 * serves the bytes, ranges and all, and the app's worker is free at once. By name:
 * `enable('XSendfile', { type: 'X-Accel-Redirect', mapping: {...} })`.
 *
 * @example
 * ```ts
 * import { xsendfile } from '@plank/middleware-xsendfile';
 * export default xsendfile({ type: 'X-Accel-Redirect', mapping: { '/srv/files/': '/protected/' } })(
 *   () => [200, ['Content-Type', 'application/pdf'], { path: '/srv/files/report.pdf' }],
 * );
 * ```
 */
export function xsendfile(options?: XSendfileOptions): Middleware {
  const o = checkOptions('XSendfile', CODE, options, {
    type: check.oneOf(...TYPES),
    mapping: check.custom(
      'must be an object of absolute path prefixes to URL paths ("/srv/files/": "/protected/")',
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        !Array.isArray(v) &&
        Object.entries(v).every(([from, to]) => from.startsWith('/') && typeof to === 'string' && to.startsWith('/'))
          ? (v as Record<string, string>)
          : undefined,
    ),
    trusted: check.either(check.boolean, check.function),
  });
  if (o.type === undefined && o.trusted === undefined)
    throw new PlankError(
      CODE,
      'XSendfile: give option "type", or "trusted" to take it from the proxy\'s X-Sendfile-Type header',
    );
  const fixed = o.type;
  const mapping = Object.entries(o.mapping ?? {}).sort((a, b) => b[0].length - a[0].length);
  const trusted = o.trusted ?? false;

  return (app) =>
    function xsendfileApp(env) {
      return responseCb(app(env), (res) => {
        const body = res[2];
        if (res[0] !== 200 || body === undefined || header.has(res[1], 'Content-Range')) return;
        const path = wholeFilePath(body, res[1]);
        if (path === undefined) return;
        const believe = trusted === true || (typeof trusted === 'function' && trusted(env) === true);
        const type = fixed ?? (believe ? asType(env.HTTP_X_SENDFILE_TYPE) : undefined);
        if (type === undefined || header.has(res[1], type)) return;
        let value: string | undefined;
        if (type === 'X-Accel-Redirect') {
          const map =
            believe && env.HTTP_X_ACCEL_MAPPING ? [...parseMapping(env.HTTP_X_ACCEL_MAPPING), ...mapping] : mapping;
          value = accelUrl(absolute(path), map);
        } else {
          // Header values are bytes: the path's UTF-8, one character per byte.
          value = Buffer.from(absolute(path), 'utf8').toString('latin1');
        }
        if (value === undefined) return;
        discardBody(body);
        res[2] = [];
        header.set(res[1], type, value);
        // The body is the front end's to send; the app's response to it is empty.
        header.set(res[1], 'Content-Length', '0');
      });
    };
}

function wholeFilePath(body: unknown, headers: string[]): string | undefined {
  if (isFileBody(body)) {
    const length = header.get(headers, 'Content-Length');
    const whole =
      (body.start ?? 0) === 0 && (body.end === undefined || length === undefined || body.end + 1 === Number(length));
    return whole ? body.path : undefined;
  }
  // An fs read stream of a whole file, as Plack's IO objects with a path.
  if (isReadable(body)) {
    const stream = body as unknown as { path?: unknown; start?: number; end?: number };
    if (
      typeof stream.path === 'string' &&
      (stream.start ?? 0) === 0 &&
      (stream.end === undefined || stream.end === Infinity)
    )
      return stream.path;
  }
  return undefined;
}

// Resolved against the working directory without touching the disk: symlinks are kept, so
// the path still starts with the prefix the front end's mapping names.
function absolute(path: string): string {
  return resolve(path);
}

function asType(value: string | undefined): SendfileType | undefined {
  const found = TYPES.find((t) => t.toLowerCase() === value?.trim().toLowerCase());
  return found;
}

// nginx's X-Accel-Mapping is "internal=external", several separated by commas (Rack's form).
function parseMapping(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const pair of value.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) out.push([pair.slice(0, at).trim(), pair.slice(at + 1).trim()]);
  }
  return out;
}

function accelUrl(path: string, mapping: ReadonlyArray<[string, string]>): string | undefined {
  for (const [from, to] of mapping) {
    if (!path.startsWith(from)) continue;
    // A URI: each segment percent-encoded, so spaces, '?', '#' and '%' in names stay names.
    const rest = path.slice(from.length).split('/').map(encodeURIComponent).join('/');
    return `${to}${rest}`;
  }
  return undefined;
}

/** The name `enable('XSendfile')` resolves to. */
export const plankMiddleware: { XSendfile: typeof xsendfile } = { XSendfile: xsendfile };
