// Turns a request path into path segments below the document root, or a refusal. Pure
// string work: nothing here touches the file system, so every rule is unit-testable and
// runs before any syscall.

/** How a dotfile (a segment starting with `.`) is treated. */
export type DotfilesPolicy = 'ignore' | 'deny' | 'allow';

export type SafePath =
  | { ok: true; segments: string[]; trailingSlash: boolean }
  | { ok: false; status: 400 | 403 | 404 };

/** Longest request path accepted, in bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Longest path segment accepted, in bytes (Linux NAME_MAX). */
export const MAX_SEGMENT_BYTES = 255;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Checks a percent-decoded PATH_INFO (a byte string, one char per byte) and splits it.
 * Order matters: a NUL or an over-long path is a bad request whatever else it holds;
 * a `..` segment anywhere is a traversal attempt (403) even when an earlier segment is
 * a hidden one, so the attacker learns nothing from the dotfile policy.
 */
export function safePath(pathInfo: string, dotfiles: DotfilesPolicy): SafePath {
  if (pathInfo.length > MAX_PATH_BYTES) return { ok: false, status: 400 };
  if (pathInfo.includes('\0')) return { ok: false, status: 400 };
  // `\` is a separator too: Windows clients and proxies send it, and a file named
  // `a\b` is rarer than an attacker hoping `..\` slips past a `/`-only check.
  const raw = pathInfo.split(/[/\\]/);
  const segments: string[] = [];
  let hidden = false;
  for (const seg of raw) {
    if (seg === '' || seg === '.') continue;
    if (seg.length > MAX_SEGMENT_BYTES) return { ok: false, status: 400 };
    if (seg.charCodeAt(0) === 0x2e) {
      // Two or more dots only: `..` climbs, and `...` does on some platforms and shells.
      if (/^\.{2,}$/.test(seg)) return { ok: false, status: 403 };
      hidden = true;
    }
    segments.push(seg);
  }
  if (hidden && dotfiles !== 'allow') return { ok: false, status: dotfiles === 'deny' ? 403 : 404 };
  const last = pathInfo.charCodeAt(pathInfo.length - 1);
  const trailingSlash = last === 0x2f || last === 0x5c;
  // ASCII decodes to itself: most paths skip the decoder and the second split (safePath was
  // the largest entry of a cached file's request in a CPU profile).
  if (!NON_ASCII.test(pathInfo)) return { ok: true, segments, trailingSlash };
  // File names are UTF-8 on every system we serve from; bytes that do not decode
  // (overlong `%c0%ae`, latin1 names) cannot name a file we can open by string path.
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(segments.join('/'), 'latin1'));
  } catch {
    return { ok: false, status: 404 };
  }
  return { ok: true, segments: decoded === '' ? [] : decoded.split('/'), trailingSlash };
}

/** True when a relative path (below root, `/`-separated) has a segment starting with a dot. */
export function hasDotSegment(relative: string): boolean {
  return relative.startsWith('.') || relative.includes('/.');
}

/**
 * True when the raw request target holds a `%` that does not start a `%XX` escape.
 * Servers decode leniently (a stray `%` survives); we refuse, because such a path was
 * not produced by any correct client and differs between decoders.
 */
export function hasBadPercent(requestUri: string): boolean {
  const q = requestUri.indexOf('?');
  const path = q === -1 ? requestUri : requestUri.slice(0, q);
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 1)) {
    if (!isHex(path.charCodeAt(i + 1)) || !isHex(path.charCodeAt(i + 2))) return true;
  }
  return false;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The `Location` for a directory requested without its trailing slash: the raw path as
 * the client sent it plus `/`. Leading slashes and backslashes collapse to one `/` so
 * `//evil.example/` never becomes a protocol-relative redirect, and bytes that are not
 * safe in a URL are percent-encoded (a `\` would let browsers read `/\host` as `//host`).
 */
export function directoryLocation(requestUri: string, queryString: string): string {
  let path = requestUri;
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  // absolute-form (`GET http://host/dir HTTP/1.1`): keep only the path.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (abs) path = path.slice(abs[0].length);
  path = path.replace(/^[/\\]+/, '');
  let out = '/';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    out += isUrlSafe(c) ? path[i] : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (!out.endsWith('/')) out += '/';
  return queryString === '' ? out : `${out}?${encodeQuery(queryString)}`;
}

// RFC 3986 pchar plus `/` and `%` (the path is already percent-encoded; keep its escapes).
function isUrlSafe(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    "-._~!$&'()*+,;=:@/%".includes(String.fromCharCode(c))
  );
}

function encodeQuery(query: string): string {
  let out = '';
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    out += isUrlSafe(c) || c === 0x3f ? query[i] : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
