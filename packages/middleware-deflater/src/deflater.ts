import {
  check,
  checkOptions,
  chunkLength,
  header,
  responseCb,
  statusWithoutBody,
  type Chunk,
  type Middleware,
} from '@plank/core';
import { type Coding, compressWhole, streamEncoder } from './encoder.js';
import { chooseCoding } from './negotiate.js';

export type DeflaterOptions = {
  /**
   * The media types to compress (compared without parameters, case-insensitively): exact
   * types, `text/*`-style wildcards, or regular expressions tested on the bare type.
   * @default text/*, JSON, JavaScript, XML, `+json`/`+xml` types, SVG, wasm, TTF/OTF fonts
   */
  contentType?: string | RegExp | ReadonlyArray<string | RegExp>;
  /** Bodies known to be smaller than this many bytes are sent as they are. @default 1024 */
  threshold?: number;
  /** The codings offered, in the server's order of preference for equal q-values. @default ['br', 'gzip', 'deflate'] */
  encodings?: readonly Coding[];
  /** zlib level for gzip and deflate, 0 (store) to 9. @default 6 */
  level?: number;
  /** Brotli quality, 0 to 11. 11 is far too slow for dynamic responses. @default 4 */
  brotliQuality?: number;
  /** Add `User-Agent` to `Vary` too, for caches in front of an app that decides by browser (Plack's `vary_user_agent`). @default false */
  varyUserAgent?: boolean;
};

const mediaType = check.custom('must be a media type (text/html, text/*) or a RegExp', (v) =>
  typeof v === 'string' && /^[\w.+-]+\/(?:\*|[\w.+-]+)$/.test(v) ? v : undefined,
);
const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate'];
// What compression (express) and nginx's usual gzip_types compress; images, audio, video and archives are already compressed.
const COMPRESSIBLE =
  /^(?:text\/|application\/(?:json|javascript|ecmascript|x-javascript|xml|wasm|x-ndjson|rss\+xml|atom\+xml)$|image\/svg\+xml$|font\/(?:ttf|otf)$)|\+(?:json|xml)$/;

/**
 * Compresses response bodies with brotli, gzip or deflate, as the request's
 * Accept-Encoding asks (q-values honoured), like Plack::Middleware::Deflater and express's
 * compression. Bodies of compressible types (text, JSON, JavaScript, XML, SVG...) are
 * compressed; small bodies, already-encoded responses (Static's precompressed files),
 * ranges, `Cache-Control: no-transform` and bodiless statuses are left alone. Streaming
 * responses are compressed and flushed write by write. `Vary: Accept-Encoding` is added to
 * every response whose type could be compressed. An earlier middleware may set Plack's
 * switches: `env['psgix.no-compress']` or `env['psgix.compress-only-text/html']` (Vary is
 * still added), or `env['plank.skip-deflater']` (Plack's `plack.skip-deflater`: the response
 * is not touched at all). By name: `enable('Deflater')`.
 *
 * @example
 * ```ts
 * import { deflater } from '@plank/middleware-deflater';
 * export default deflater({ threshold: 512 })(() => [200, ['Content-Type', 'application/json'], [JSON.stringify({ big: 'x'.repeat(2000) })]]);
 * ```
 */
export function deflater(options?: DeflaterOptions): Middleware {
  const o = checkOptions('Deflater', 'PLANK_ERR_DEFLATER_OPTION', options, {
    contentType: check.either(mediaType, check.regexp, check.array(check.either(mediaType, check.regexp))),
    threshold: check.integer({ min: 0 }),
    encodings: check.custom('must be a non-empty list of "br", "gzip", "deflate"', (v) =>
      Array.isArray(v) && v.length > 0 && v.every((e) => CODINGS.includes(e)) ? (v as Coding[]) : undefined,
    ),
    level: check.integer({ min: 0, max: 9 }),
    brotliQuality: check.integer({ min: 0, max: 11 }),
    varyUserAgent: check.boolean,
  });
  const matchType = compileTypes(o.contentType);
  const threshold = o.threshold ?? 1024;
  const offered = o.encodings ?? CODINGS;
  const streamable = offered.filter((c): c is 'gzip' | 'deflate' => c !== 'br');
  const level = o.level ?? 6;
  const brotliQuality = o.brotliQuality ?? 4;
  const vary = o.varyUserAgent ? ['Accept-Encoding', 'User-Agent'] : ['Accept-Encoding'];

  return (app) =>
    function deflaterApp(env) {
      return responseCb(app(env), (res) => {
        if (env['plank.skip-deflater']) return;
        const [status, headers, body] = res;
        if (status < 200 || status === 206 || statusWithoutBody(status)) return;
        const type = (header.get(headers, 'Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!matchType(type)) return;
        if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(header.get(headers, 'Cache-Control') ?? '')) return;
        // Caches must key on Accept-Encoding whenever the answer could have been compressed,
        // including the times it was not (RFC 9110 §12.5.5).
        for (const name of vary) addVary(headers, name);
        // Plack's switches for browsers that mishandle compression, set by an earlier middleware.
        if (env['psgix.no-compress']) return;
        if (env['psgix.compress-only-text/html'] && type !== 'text/html') return;
        const encoding = header.get(headers, 'Content-Encoding');
        if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return;
        // A range is a slice of the identity bytes; compressing it would be a different thing (RFC 9110 §14.4).
        if (header.has(headers, 'Content-Range')) return;
        const known = knownLength(headers, body);
        if (known !== undefined && known < threshold) return;
        // Brotli needs the whole body at once (see encoder.ts): only arrays, and HEAD, where nothing is compressed.
        const whole = Array.isArray(body) || env.REQUEST_METHOD === 'HEAD';
        const coding = chooseCoding(env.HTTP_ACCEPT_ENCODING, whole ? offered : streamable);
        if (coding === undefined) return;

        header.set(headers, 'Content-Encoding', coding);
        header.remove(headers, 'Content-Length');
        // The identity bytes' ranges mean nothing in the coded body, and a strong ETag
        // names exact bytes: nginx's gzip filter does the same two things.
        header.remove(headers, 'Accept-Ranges');
        const etag = header.get(headers, 'ETag');
        if (etag?.startsWith('"')) header.set(headers, 'ETag', `W/${etag}`);

        // HEAD gets the headers a GET would get; the filter drops the body unread, so nothing is compressed.
        if (env.REQUEST_METHOD === 'HEAD') return dropChunk;
        if (Array.isArray(body)) {
          res[2] = [compressWhole(coding, concat(body), level, brotliQuality)];
          return;
        }
        const encode = streamEncoder(coding as 'gzip' | 'deflate', level);
        return function deflateChunk(chunk: Chunk | null) {
          if (chunk === null) return encode(null);
          const out = encode(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : toBuffer(chunk));
          return out.length > 0 ? out : null;
        };
      });
    };
}

function dropChunk(): null {
  return null;
}

function addVary(headers: string[], name: string): void {
  const vary = header.get(headers, 'Vary');
  if (vary === undefined) header.push(headers, 'Vary', name);
  else if (!vary.split(',').some((v) => ['*', name.toLowerCase()].includes(v.trim().toLowerCase())))
    header.set(headers, 'Vary', `${vary}, ${name}`);
}

function knownLength(headers: string[], body: unknown): number | undefined {
  const length = header.get(headers, 'Content-Length');
  if (length !== undefined && /^\d+$/.test(length)) return Number(length);
  if (!Array.isArray(body)) return undefined;
  let n = 0;
  for (const chunk of body as Chunk[]) n += chunkLength(chunk);
  return n;
}

function concat(body: Chunk[]): Buffer {
  return Buffer.concat(body.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : toBuffer(c))));
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function compileTypes(spec: string | RegExp | ReadonlyArray<string | RegExp> | undefined): (type: string) => boolean {
  if (spec === undefined) return (type) => COMPRESSIBLE.test(type);
  const list = Array.isArray(spec) ? spec : [spec];
  const tests = list.map((entry: string | RegExp) => {
    if (entry instanceof RegExp) return (type: string) => entry.test(type);
    const want = entry.toLowerCase();
    if (want.endsWith('/*')) return (type: string) => type.startsWith(want.slice(0, -1));
    return (type: string) => type === want;
  });
  return (type) => tests.some((t) => t(type));
}

/** The name `enable('Deflater')` resolves to. */
export const plankMiddleware: { Deflater: typeof deflater } = { Deflater: deflater };
