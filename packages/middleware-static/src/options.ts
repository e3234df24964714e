import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { optionError, PlankError, type Env, type Headers } from '@plank/core';
import type { DotfilesPolicy } from './safe-path.js';

/** A content coding that can be served from a precompressed sibling file. */
export type Precompressed = 'br' | 'gzip' | 'zstd';

/** Options shared by {@link fileApp}, {@link serveStatic} and {@link directoryApp}. */
export type FileAppOptions = {
  /** Document root; request paths are resolved below it. @default '.' */
  root?: string;
  /** Serve this one file for every request, whatever the path (Plack::App::File's `file`). Not with `root`. */
  file?: string;
  /** Charset added to `text/*`, JavaScript and JSON types; `false` adds none. @default 'utf-8' */
  encoding?: string | false;
  /**
   * Content-Type for every file, or a function of the requested file name returning one
   * (`undefined` falls back to the MIME table). A charset is added to text types.
   */
  contentType?: string | ((path: string) => string | undefined);
  /** Content-Type when the MIME table knows no type for the extension (as Plack and nginx). @default 'text/plain' */
  defaultType?: string;
  /** `'strong'` (`"size-mtime"`), `'weak'` (`W/"size-mtime"`), or `false` for none. @default 'strong' */
  etag?: 'strong' | 'weak' | false;
  /** Send Last-Modified. @default true */
  lastModified?: boolean;
  /** Honour Range requests and send `Accept-Ranges: bytes`. @default true */
  acceptRanges?: boolean;
  /** Most ranges honoured in one request (before merging); more are ignored and the whole file is sent. @default 20 */
  maxRanges?: number;
  /** `Cache-Control: public, max-age=N` in seconds; no Cache-Control when unset. */
  maxAge?: number;
  /** Add `immutable` to Cache-Control (needs `maxAge`). @default false */
  immutable?: boolean;
  /** Called with the headers of every 200, 206 and 304 file response; mutate them in place. */
  setHeaders?: (headers: Headers, path: string, stat: Stats) => void;
  /** File names tried, in order, for a directory requested with a trailing slash; `false` for none. @default ['index.html'] */
  index?: string | string[] | false;
  /** Answer a directory requested without its trailing slash with a 301 to the slashed path. @default true */
  redirect?: boolean;
  /** Paths with a segment starting with `.`: `'ignore'` (404), `'deny'` (403) or `'allow'`. @default 'ignore' */
  dotfiles?: DotfilesPolicy;
  /** Serve symlinks whose target lies outside `root`. @default false */
  followSymlinks?: boolean;
  /** Serve `file.br` / `file.gz` / `file.zst` to clients that accept them, in this order of preference. @default [] */
  precompressed?: Precompressed[];
  /**
   * Remember file lookups (real path, stat) for hot files, and the bytes of small ones:
   * `true` for the defaults, or `{ maxEntries, ttl, maxFileSize, maxBytes }`. Entries are
   * dropped as soon as the file changes (inotify) and looked up again after `ttl` ms.
   * Files up to `maxFileSize` bytes are kept in memory, `maxBytes` in all (0 keeps none).
   * @default false
   */
  cache?: boolean | CacheOptions;
};

/** The `cache` option spelled out; every field is optional. */
export type CacheOptions = {
  /** Paths remembered at most; the oldest goes first. @default 1024 */
  maxEntries?: number;
  /** Milliseconds before an entry is looked up again (realpath + stat). @default 2000 */
  ttl?: number;
  /** Largest file whose bytes are kept in memory. @default 65536 */
  maxFileSize?: number;
  /** Bytes kept in memory over all files; 0 keeps metadata only. @default 16777216 */
  maxBytes?: number;
};

/** Options of {@link serveStatic}. */
export type StaticOptions = Omit<FileAppOptions, 'file'> & {
  /**
   * Which requests are static: a RegExp tested on PATH_INFO; a string, a path *prefix*
   * on a `/` boundary (unlike Plack, where every `path` is a regex); or a function of
   * (PATH_INFO, env) that returns the path to look up below `root` (it may rewrite it,
   * like Plack's `s!^/static/!!`) or `false` to leave the request to the app.
   * Without `path`, no request is claimed.
   */
  path?: RegExp | string | ((path: string, env: Env) => string | false);
  /** Let a 404 fall through to the app, and non-GET/HEAD requests too (else 405). 400 and 403 never fall through. @default false */
  passThrough?: boolean;
};

/** Options after validation, with defaults filled in. */
export type Resolved = {
  root: string;
  file: string | undefined;
  encoding: string | false;
  contentType: string | ((path: string) => string | undefined) | undefined;
  defaultType: string;
  etag: 'strong' | 'weak' | false;
  lastModified: boolean;
  acceptRanges: boolean;
  maxRanges: number;
  cacheControl: string | undefined;
  setHeaders: ((headers: Headers, path: string, stat: Stats) => void) | undefined;
  index: string[];
  redirect: boolean;
  dotfiles: DotfilesPolicy;
  followSymlinks: boolean;
  precompressed: Precompressed[];
  cache: Required<CacheOptions> | false;
};

export const FILE_KEYS: string[] = [
  'root',
  'file',
  'encoding',
  'contentType',
  'defaultType',
  'etag',
  'lastModified',
  'acceptRanges',
  'maxRanges',
  'maxAge',
  'immutable',
  'setHeaders',
  'index',
  'redirect',
  'dotfiles',
  'followSymlinks',
  'precompressed',
  'cache',
];
export const STATIC_KEYS: string[] = [...FILE_KEYS.filter((k) => k !== 'file'), 'path', 'passThrough'];

/** The one error code for a bad option; the message names the option and shows the value. */
export const OPTION_ERROR = 'PLANK_ERR_STATIC_OPTION';
/** The root (or `file`) does not exist or has the wrong type. */
export const ROOT_ERROR = 'PLANK_ERR_STATIC_ROOT';

export function resolveOptions(where: string, input: unknown, keys: string[] = FILE_KEYS): Resolved {
  if (input === undefined) input = {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new PlankError(OPTION_ERROR, `${where}: options must be an object, got ${JSON.stringify(input)}`);
  }
  const o = input as Record<string, unknown>;
  const bad = (option: string, expected: string): PlankError =>
    optionError(OPTION_ERROR, where, option, o[option], expected);
  // A typo (`pass_through`, `maxage`) would otherwise silently do nothing.
  for (const key of Object.keys(o)) {
    if (!keys.includes(key) && o[key] !== undefined) {
      throw new PlankError(OPTION_ERROR, `${where}: unknown option "${key}"; known options: ${keys.join(', ')}`);
    }
  }
  const str = (k: string): string | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'string' || o[k] === '') throw bad(k, 'must be a non-empty string');
    return o[k] as string;
  };
  const bool = (k: string, dflt: boolean): boolean => {
    if (o[k] === undefined) return dflt;
    if (typeof o[k] !== 'boolean') throw bad(k, 'must be true or false');
    return o[k] as boolean;
  };
  const oneOf = <T>(k: string, values: readonly T[], dflt: T): T => {
    if (o[k] === undefined) return dflt;
    if (!values.includes(o[k] as T)) throw bad(k, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
    return o[k] as T;
  };
  const count = (v: unknown, k: string, min: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw optionError(OPTION_ERROR, where, k, v, `must be an integer >= ${min}`);
    return v;
  };

  const file = str('file');
  if (file !== undefined && o.root !== undefined) throw bad('file', 'cannot be combined with "root"');
  const root = resolve(str('root') ?? '.');
  checkPath(
    where,
    file === undefined ? 'root' : 'file',
    file === undefined ? root : resolve(file),
    file === undefined ? 'dir' : 'file',
  );

  let encoding: string | false = 'utf-8';
  if (o.encoding === false) encoding = false;
  else if (o.encoding !== undefined) {
    if (typeof o.encoding !== 'string' || !/^[A-Za-z0-9._:-]+$/.test(o.encoding))
      throw bad('encoding', 'must be a charset name or false');
    encoding = o.encoding;
  }
  const contentType = o.contentType;
  if (contentType !== undefined && typeof contentType !== 'function' && !isHeaderValue(contentType)) {
    throw bad('contentType', 'must be a media type string or a function (path) => string | undefined');
  }
  const defaultType = str('defaultType') ?? 'text/plain';
  if (!isHeaderValue(defaultType)) throw bad('defaultType', 'must be a media type string');

  let cacheControl: string | undefined;
  if (o.maxAge !== undefined) cacheControl = `public, max-age=${count(o.maxAge, 'maxAge', 0)}`;
  if (bool('immutable', false)) {
    if (cacheControl === undefined)
      throw bad('immutable', 'needs "maxAge" (immutable without a lifetime means nothing to caches); set maxAge too');
    cacheControl += ', immutable';
  }
  if (o.setHeaders !== undefined && typeof o.setHeaders !== 'function')
    throw bad('setHeaders', 'must be a function (headers, path, stat) => void');

  let index: string[] = ['index.html'];
  if (o.index === false) index = [];
  else if (o.index !== undefined) {
    const list = typeof o.index === 'string' ? [o.index] : o.index;
    if (
      !Array.isArray(list) ||
      !list.every((n) => typeof n === 'string' && n !== '' && !/[/\\\0]/.test(n) && !/^\.+$/.test(n))
    ) {
      throw bad('index', 'must be a file name, a list of file names (no slashes), or false');
    }
    index = list as string[];
  }

  let precompressed: Precompressed[] = [];
  if (o.precompressed !== undefined && o.precompressed !== false) {
    const list = o.precompressed;
    if (
      !Array.isArray(list) ||
      !list.every((c) => c === 'br' || c === 'gzip' || c === 'zstd') ||
      new Set(list).size !== list.length
    ) {
      throw bad('precompressed', 'must be a list of distinct codings among "br", "gzip", "zstd"');
    }
    precompressed = list as Precompressed[];
  }

  let cache: Resolved['cache'] = false;
  const defaults: Required<CacheOptions> = {
    maxEntries: 1024,
    ttl: 2000,
    maxFileSize: 64 * 1024,
    maxBytes: 16 * 1024 * 1024,
  };
  if (o.cache === true) cache = defaults;
  else if (typeof o.cache === 'object' && o.cache !== null && !Array.isArray(o.cache)) {
    const c = o.cache as Record<string, unknown>;
    const floor: Record<string, number> = { maxEntries: 1, ttl: 0, maxFileSize: 0, maxBytes: 0 };
    for (const key of Object.keys(c))
      if (!(key in floor)) throw bad('cache', `takes only { ${Object.keys(floor).join(', ')} }`);
    cache = { ...defaults };
    for (const key of Object.keys(floor) as (keyof CacheOptions)[]) {
      if (c[key] !== undefined) cache[key] = count(c[key], `cache.${key}`, floor[key] as number);
    }
  } else if (o.cache !== undefined && o.cache !== false)
    throw bad('cache', 'must be true, false or { maxEntries, ttl, maxFileSize, maxBytes }');

  return {
    root,
    file: file === undefined ? undefined : resolve(file),
    encoding,
    contentType: contentType as Resolved['contentType'],
    defaultType,
    etag: oneOf('etag', ['strong', 'weak', false] as const, 'strong'),
    lastModified: bool('lastModified', true),
    acceptRanges: bool('acceptRanges', true),
    maxRanges: o.maxRanges === undefined ? 20 : count(o.maxRanges, 'maxRanges', 1),
    cacheControl,
    setHeaders: o.setHeaders as Resolved['setHeaders'],
    index,
    redirect: bool('redirect', true),
    dotfiles: oneOf('dotfiles', ['ignore', 'deny', 'allow'] as const, 'ignore'),
    followSymlinks: bool('followSymlinks', false),
    precompressed,
    cache,
  };
}

function isHeaderValue(v: unknown): v is string {
  return typeof v === 'string' && v !== '' && !/[\0\r\n]/.test(v);
}

// A missing root is a deployment mistake: say so when the app is built, not as a 404
// on every request.
function checkPath(where: string, option: string, path: string, kind: 'dir' | 'file'): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new PlankError(
      ROOT_ERROR,
      `${where}: option "${option}" ${JSON.stringify(path)} cannot be used: ${(err as Error).message}`,
    );
  }
  if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) {
    throw new PlankError(
      ROOT_ERROR,
      `${where}: option "${option}" ${JSON.stringify(path)} is not a ${kind === 'dir' ? 'directory' : 'regular file'}`,
    );
  }
}
