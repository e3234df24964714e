// The file-serving core shared by fileApp, serveStatic and directoryApp: from a request
// path to a response with the right status, validators, range and body.

import { dirname } from 'node:path';
import mime from 'mime-types';
import { header, type Env, type Headers, type Response } from '@plank/core';
import { evaluatePreconditions, ifRangeHolds, parseRange, type Validators } from './conditional.js';
import { multipartByteranges } from './multipart.js';
import type { Precompressed, Resolved } from './options.js';
import { createResolver, type FileInfo, type Resolver } from './resolver.js';
import { plain } from './responses.js';
import { directoryLocation, hasBadPercent, safePath } from './safe-path.js';

export type FileServer = {
  /** Answers GET or HEAD for `pathInfo` (a byte string below the root). Synchronous on cache hits. */
  serve(env: Env, pathInfo: string): Response | Promise<Response>;
  resolver: Resolver;
};

const SUFFIX: Record<Precompressed, string> = { br: '.br', gzip: '.gz', zstd: '.zst' };
// Representation metadata a 304 must not carry (RFC 9110 §15.4.5).
const NOT_IN_304 = [
  'Content-Type',
  'Content-Length',
  'Content-Encoding',
  'Content-Language',
  'Content-Range',
  'Accept-Ranges',
];

/** Where a request path leads below the root, or the status that refuses it. */
type Located = { fsPath: string; trailingSlash: boolean } | { status: 400 | 403 | 404 };

/** Answers a directory requested with its slash when no index file is there. */
export type DirectoryHandler = (env: Env, dir: string) => Response | Promise<Response>;

export function createFileServer(o: Resolved, listDirectory?: DirectoryHandler): FileServer {
  const resolver = createResolver({
    root: o.file === undefined ? o.root : dirname(o.file),
    // A single configured file is trusted as configured, wherever its links lead.
    followSymlinks: o.file !== undefined || o.followSymlinks,
    dotfiles: o.file === undefined ? o.dotfiles : 'allow',
    cache: o.cache,
  });

  function typeFor(name: string): string {
    const override = typeof o.contentType === 'function' ? o.contentType(name) : o.contentType;
    let type = override || mime.lookup(name) || o.defaultType;
    if (o.encoding !== false && !/;\s*charset=/i.test(type) && needsCharset(type)) type += `; charset=${o.encoding}`;
    return type;
  }

  // safePath is pure string work, so with the cache on its answer for a path is kept too:
  // a hot path then skips the checks and reuses one flat file-system path (whose hash V8
  // keeps) as the cache key. Bounded by the cache's maxEntries; emptied when full, so a
  // flood of distinct paths costs one clear per maxEntries requests.
  const located = o.cache === false ? undefined : new Map<string, Located>();
  const maxLocated = o.cache === false ? 0 : o.cache.maxEntries;

  function locate(pathInfo: string): Located {
    let where = located?.get(pathInfo);
    if (where !== undefined) return where;
    const checked = safePath(pathInfo, o.dotfiles);
    where = !checked.ok
      ? { status: checked.status }
      : {
          fsPath: checked.segments.length === 0 ? o.root : `${o.root}/${checked.segments.join('/')}`,
          trailingSlash: checked.trailingSlash,
        };
    if (located !== undefined) {
      if (located.size >= maxLocated) located.clear();
      located.set(pathInfo, where);
    }
    return where;
  }

  function serve(env: Env, pathInfo: string): Response | Promise<Response> {
    if (o.file !== undefined)
      return andThen(resolver.lookup(o.file), (l) =>
        l.kind === 'file' ? sendFile(env, l.info, o.file as string) : plain(404),
      );
    // Judged on the raw target: after decoding, a stray `%` is indistinguishable from `%25`.
    if (hasBadPercent(env.REQUEST_URI)) return plain(400);
    const where = locate(pathInfo);
    if ('status' in where) return plain(where.status);
    const { fsPath, trailingSlash } = where;
    return andThen(resolver.lookup(fsPath), (l): Response | Promise<Response> => {
      if (l.kind === 'status') return plain(l.status);
      if (l.kind === 'file') return trailingSlash ? plain(404) : sendFile(env, l.info, fsPath);
      if (!trailingSlash) return o.redirect ? redirectToDirectory(env) : plain(404);
      return serveIndex(env, fsPath, l.path, 0);
    });
  }

  function serveIndex(env: Env, dir: string, realDir: string, i: number): Response | Promise<Response> {
    const name = o.index[i];
    if (name === undefined) return listDirectory ? listDirectory(env, realDir) : plain(404);
    const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
    return andThen(resolver.lookup(path), (l) =>
      l.kind === 'file' ? sendFile(env, l.info, path) : serveIndex(env, dir, realDir, i + 1),
    );
  }

  function sendFile(env: Env, info: FileInfo, name: string): Response | Promise<Response> {
    info.type ??= typeFor(name);
    const accept = o.precompressed.length === 0 ? undefined : env.HTTP_ACCEPT_ENCODING;
    if (accept === undefined || accept === '') return respond(env, info, info.type, undefined);
    return sendVariant(env, info, info.type, name, accept, 0);
  }

  // Tries the precompressed siblings in the configured order of preference.
  function sendVariant(
    env: Env,
    info: FileInfo,
    type: string,
    name: string,
    accept: string,
    i: number,
  ): Response | Promise<Response> {
    const coding = o.precompressed[i];
    if (coding === undefined) return respond(env, info, type, undefined);
    if (!acceptsCoding(accept, coding)) return sendVariant(env, info, type, name, accept, i + 1);
    return andThen(resolver.lookup(name + SUFFIX[coding], true), (l) =>
      l.kind === 'file' ? respond(env, l.info, type, coding) : sendVariant(env, info, type, name, accept, i + 1),
    );
  }

  function respond(env: Env, info: FileInfo, type: string, coding: Precompressed | undefined): Response {
    // Kept on the FileInfo, not in a side table: a cached FileInfo computes them once, and
    // an uncached one (new per request) pays no WeakMap entry (about 0.5 us per request).
    const mtimeSec = Math.floor(info.mtimeMs / 1000);
    const etag =
      o.etag === false
        ? undefined
        : makeEtag(
            (info.etag ??= `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`),
            coding,
            o.etag,
          );
    const headers: Headers = ['Content-Type', type];
    if (o.lastModified) headers.push('Last-Modified', (info.lastModified ??= new Date(mtimeSec * 1000).toUTCString()));
    if (etag !== undefined) headers.push('ETag', etag);
    if (o.cacheControl !== undefined) headers.push('Cache-Control', o.cacheControl);
    if (o.precompressed.length > 0) headers.push('Vary', 'Accept-Encoding');
    if (coding !== undefined) headers.push('Content-Encoding', coding);
    if (o.acceptRanges) headers.push('Accept-Ranges', 'bytes');
    o.setHeaders?.(headers, info.path, info.stat);

    // Without Last-Modified on the wire, dates in the request cannot refer to it.
    const v: Validators = { etag, mtimeSec: o.lastModified ? mtimeSec : undefined };
    const pre = evaluatePreconditions(env, v);
    if (pre === 'failed') return plain(412);
    if (pre === 'not-modified') {
      for (const name of NOT_IN_304) header.remove(headers, name);
      return [304, headers, []];
    }

    const { size, path, data } = info;
    // Range is defined for GET only (RFC 9110 §14.2): a HEAD gets the 200 headers.
    if (o.acceptRanges && env.REQUEST_METHOD === 'GET' && env.HTTP_RANGE !== undefined && ifRangeHolds(env, v)) {
      const ranges = parseRange(env.HTTP_RANGE, size, o.maxRanges);
      if (ranges === 'unsatisfiable') return plain(416, ['Content-Range', `bytes */${size}`]);
      if (ranges !== 'ignore') {
        if (ranges.length === 1) {
          const { start, end } = ranges[0] as { start: number; end: number };
          headers.push('Content-Range', `bytes ${start}-${end}/${size}`, 'Content-Length', String(end - start + 1));
          return [206, headers, data ? [data.subarray(start, end + 1)] : { path, start, end }];
        }
        const mp = multipartByteranges(path, size, header.get(headers, 'Content-Type') ?? type, ranges);
        header.set(headers, 'Content-Type', `multipart/byteranges; boundary=${mp.boundary}`);
        headers.push('Content-Length', String(mp.length));
        return [206, headers, mp.body];
      }
    }
    headers.push('Content-Length', String(size));
    if (env.REQUEST_METHOD === 'HEAD' || size === 0) return [200, headers, []];
    // A small cached file is sent from memory: no open, read or close at all.
    return [200, headers, data ? [data] : { path, start: 0, end: size - 1 }];
  }

  return { serve, resolver };
}

// Named so that no module exports `then`: a namespace with a `then` is awaited as a thenable.
/** Applies `f` now when `x` is a value, later when it is a promise: cache hits stay synchronous. */
export function andThen<T, U>(x: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return x instanceof Promise ? x.then(f) : f(x);
}

function needsCharset(type: string): boolean {
  const base = (type.split(';')[0] as string).trim().toLowerCase();
  return base.startsWith('text/') || base.endsWith('+json') || mime.charset(base) !== false;
}

function makeEtag(etag: string, coding: Precompressed | undefined, kind: 'strong' | 'weak'): string {
  // Size and mtime (ms) as nginx does: no content hashing, so no read before the first
  // byte. The coding is part of the tag, so each variant validates on its own; it is added
  // per response because one cached file can be both a variant and a file asked for by name.
  const tag = coding === undefined ? etag : `${etag.slice(0, -1)}-${coding}"`;
  return kind === 'weak' ? `W/${tag}` : tag;
}

/** True when Accept-Encoding allows `coding` (q > 0, by name or through `*`). */
export function acceptsCoding(accept: string, coding: string): boolean {
  let star: number | undefined;
  for (const part of accept.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = (rawName as string).trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (name === coding || (coding === 'gzip' && name === 'x-gzip')) return q > 0;
    if (name === '*') star = q;
  }
  return star !== undefined && star > 0;
}

function redirectToDirectory(env: Env): Response {
  const body = 'moved permanently';
  return [
    301,
    [
      'Location',
      directoryLocation(env.REQUEST_URI, env.QUERY_STRING),
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(body.length),
    ],
    [body],
  ];
}
