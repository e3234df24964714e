import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import {
  check,
  checkOptions,
  optionError,
  PlankError,
  type Check,
  type CheckedOptions,
  type OptionSchema,
  type Env,
  type Headers,
} from '@plank/core';
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
   * On by default, so a small hot file costs no thread-pool trip; `false` looks every
   * request up on disk.
   * @default true (at most 1024 entries and 16 MiB of file bytes)
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
  /** serveStatic only. */
  path: StaticOptions['path'];
  /** serveStatic only. */
  passThrough: boolean;
  /** directoryApp only. */
  maxEntries: number;
};

/** The one error code for a bad option; the message names the option and shows the value. */
export const OPTION_ERROR = 'PLANK_ERR_STATIC_OPTION';
/** The root (or `file`) does not exist or has the wrong type. */
export const ROOT_ERROR = 'PLANK_ERR_STATIC_ROOT';

const isHeaderValue = (v: unknown): v is string => typeof v === 'string' && v !== '' && !/[\0\r\n]/.test(v);
const headerValue = check.custom('must be a media type string', (v) => (isHeaderValue(v) ? v : undefined));
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegExp);

// Every option of fileApp; serveStatic and directoryApp take these without `file`, plus their own.
const FILE = {
  root: check.path,
  file: check.path,
  encoding: check.custom('must be a charset name or false', (v) =>
    v === false || (typeof v === 'string' && /^[A-Za-z0-9._:-]+$/.test(v)) ? v : undefined,
  ),
  contentType: check.custom('must be a media type string or a function (path) => string | undefined', (v) =>
    typeof v === 'function' || isHeaderValue(v) ? (v as Resolved['contentType']) : undefined,
  ),
  defaultType: headerValue,
  etag: check.oneOf('strong', 'weak', false),
  lastModified: check.boolean,
  acceptRanges: check.boolean,
  maxRanges: check.integer({ min: 1 }),
  maxAge: check.integer({ min: 0 }),
  immutable: check.boolean,
  setHeaders: check.custom('must be a function (headers, path, stat) => void', (v) =>
    typeof v === 'function' ? (v as NonNullable<Resolved['setHeaders']>) : undefined,
  ),
  index: check.custom('must be a file name, a list of file names (no slashes), or false', (v) => {
    if (v === false) return [] as string[];
    const list: unknown = typeof v === 'string' ? [v] : v;
    const name = (n: unknown): boolean => typeof n === 'string' && n !== '' && !/[/\\\0]/.test(n) && !/^\.+$/.test(n);
    return Array.isArray(list) && list.every(name) ? (list as string[]) : undefined;
  }),
  redirect: check.boolean,
  dotfiles: check.oneOf('ignore', 'deny', 'allow'),
  followSymlinks: check.boolean,
  precompressed: check.custom('must be a list of distinct codings among "br", "gzip", "zstd"', (v) => {
    if (v === false) return [] as Precompressed[];
    const ok = Array.isArray(v) && v.every((c) => c === 'br' || c === 'gzip' || c === 'zstd');
    return ok && new Set(v).size === v.length ? (v as Precompressed[]) : undefined;
  }),
  // The fields are checked one by one below, so each error names `cache.<field>`.
  cache: check.custom('must be true, false or { maxEntries, ttl, maxFileSize, maxBytes }', (v) =>
    typeof v === 'boolean' || isPlainObject(v) ? v : undefined,
  ),
};
const STATIC_ONLY = {
  path: check.custom(
    'must be a RegExp, a path prefix string starting with "/" or a function (path, env) => string | false',
    (v) =>
      v instanceof RegExp || typeof v === 'function' || (typeof v === 'string' && v.startsWith('/'))
        ? (v as StaticOptions['path'])
        : undefined,
  ),
  passThrough: check.boolean,
};
const DIRECTORY_ONLY = { maxEntries: check.integer({ min: 1 }) };
const { file: _file, ...BELOW_ROOT } = FILE;

/** The factories of this package, by the name their errors carry. */
export type Factory = 'fileApp' | 'serveStatic' | 'directoryApp';
const SCHEMAS: Record<Factory, OptionSchema> = {
  fileApp: FILE,
  serveStatic: { ...BELOW_ROOT, ...STATIC_ONLY },
  directoryApp: { ...BELOW_ROOT, ...DIRECTORY_ONLY },
};
type Checked = CheckedOptions<typeof FILE & typeof STATIC_ONLY & typeof DIRECTORY_ONLY>;

const CACHE_DEFAULTS: Required<CacheOptions> = {
  maxEntries: 1024,
  ttl: 2000,
  maxFileSize: 64 * 1024,
  maxBytes: 16 * 1024 * 1024,
};
const CACHE: Record<keyof CacheOptions, Check<number>> = {
  maxEntries: check.integer({ min: 1 }),
  ttl: check.integer({ min: 0 }),
  maxFileSize: check.integer({ min: 0 }),
  maxBytes: check.integer({ min: 0 }),
};

/** Checks the options of `where` (a factory's name) once, when it is called, and fills in the defaults. */
export function resolveOptions(where: Factory, input: unknown): Resolved {
  // Every schema is FILE's options (some without `file`) plus a factory's own.
  const o = checkOptions(where, OPTION_ERROR, input, SCHEMAS[where]) as Checked;
  const bad = (option: string, expected: string): PlankError =>
    optionError(OPTION_ERROR, where, option, (input as Record<string, unknown>)[option], expected);

  if (o.file !== undefined && o.root !== undefined) throw bad('file', 'cannot be combined with "root"');
  const file = o.file === undefined ? undefined : resolve(o.file);
  const root = resolve(o.root ?? '.');
  if (file === undefined) checkPath(where, 'root', root, 'dir');
  else checkPath(where, 'file', file, 'file');

  let cacheControl: string | undefined;
  if (o.maxAge !== undefined) cacheControl = `public, max-age=${o.maxAge}`;
  if (o.immutable === true) {
    if (cacheControl === undefined)
      throw bad('immutable', 'needs "maxAge" (immutable without a lifetime means nothing to caches); set maxAge too');
    cacheControl += ', immutable';
  }

  return {
    root,
    file,
    encoding: o.encoding ?? 'utf-8',
    contentType: o.contentType,
    defaultType: o.defaultType ?? 'text/plain',
    etag: o.etag ?? 'strong',
    lastModified: o.lastModified ?? true,
    acceptRanges: o.acceptRanges ?? true,
    maxRanges: o.maxRanges ?? 20,
    cacheControl,
    setHeaders: o.setHeaders,
    // directoryApp lists a directory unless told which index files to serve, as Plack's.
    index: o.index ?? (where === 'directoryApp' ? [] : ['index.html']),
    redirect: o.redirect ?? true,
    dotfiles: o.dotfiles ?? 'ignore',
    followSymlinks: o.followSymlinks ?? false,
    precompressed: o.precompressed ?? [],
    cache: resolveCache(where, o.cache),
    path: o.path,
    passThrough: o.passThrough ?? false,
    maxEntries: o.maxEntries ?? 5000,
  };
}

function resolveCache(where: string, cache: unknown): Resolved['cache'] {
  if (cache === false) return false;
  if (cache === undefined || cache === true) return CACHE_DEFAULTS;
  const c = cache as Record<string, unknown>;
  const resolved = { ...CACHE_DEFAULTS };
  for (const key of Object.keys(c)) {
    const rule = Object.hasOwn(CACHE, key) ? CACHE[key as keyof CacheOptions] : undefined;
    if (rule === undefined)
      throw optionError(OPTION_ERROR, where, 'cache', cache, `takes only { ${Object.keys(CACHE).join(', ')} }`);
    if (c[key] === undefined) continue;
    const n = rule.parse(c[key]);
    if (n === undefined) throw optionError(OPTION_ERROR, where, `cache.${key}`, c[key], rule.expected);
    resolved[key as keyof CacheOptions] = n;
  }
  return resolved;
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
