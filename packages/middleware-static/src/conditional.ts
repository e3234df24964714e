// Preconditions (RFC 9110 §13) and byte ranges (RFC 9110 §14), as pure functions of the
// request headers and the file's validators.

import type { Env } from '@plank/core';

/** What the preconditions decide before any range is looked at. */
export type Precondition = 'proceed' | 'not-modified' | 'failed';

export type Validators = {
  /** The entity tag as sent in `ETag` (with quotes, `W/` for weak), or undefined. */
  etag: string | undefined;
  /** Last modification, whole seconds since the epoch (what `Last-Modified` says); undefined when not sent. */
  mtimeSec: number | undefined;
};

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the
 * order of RFC 9110 §13.2.2. Only GET and HEAD get here, so a matching If-None-Match is
 * always a 304, never a 412.
 */
export function evaluatePreconditions(env: Env, v: Validators): Precondition {
  const ifMatch = env.HTTP_IF_MATCH;
  if (ifMatch !== undefined) {
    if (!matchesAny(ifMatch, v.etag, true)) return 'failed';
  } else {
    const since = parseHttpDate(env.HTTP_IF_UNMODIFIED_SINCE);
    if (since !== undefined && v.mtimeSec !== undefined && v.mtimeSec > since) return 'failed';
  }
  const ifNoneMatch = env.HTTP_IF_NONE_MATCH;
  if (ifNoneMatch !== undefined) {
    if (matchesAny(ifNoneMatch, v.etag, false)) return 'not-modified';
  } else {
    const since = parseHttpDate(env.HTTP_IF_MODIFIED_SINCE);
    if (since !== undefined && v.mtimeSec !== undefined && v.mtimeSec <= since) return 'not-modified';
  }
  return 'proceed';
}

/**
 * True when the Range should be honoured: no If-Range, or one that still names this
 * representation. An entity tag must match strongly (a weak one never does); a date
 * must equal Last-Modified exactly (RFC 9110 §13.1.5).
 */
export function ifRangeHolds(env: Env, v: Validators): boolean {
  const value = env.HTTP_IF_RANGE?.trim();
  if (value === undefined || value === '') return true;
  if (value.startsWith('"') || value.startsWith('W/')) {
    return v.etag !== undefined && !v.etag.startsWith('W/') && value === v.etag;
  }
  const date = parseHttpDate(value);
  return date !== undefined && v.mtimeSec !== undefined && date === v.mtimeSec;
}

/**
 * Parses a list of entity tags (or `*`) and compares each with `etag`: strongly (both
 * strong and equal) for If-Match, weakly (equal after dropping `W/`) for If-None-Match.
 * Tags may hold commas, so the list is tokenised rather than split.
 */
export function matchesAny(list: string, etag: string | undefined, strong: boolean): boolean {
  // `*` matches any current representation, and we only get here for a file that exists.
  if (list.trim() === '*') return true;
  if (etag === undefined) return false;
  if (strong && etag.startsWith('W/')) return false;
  const ours = etag.startsWith('W/') ? etag.slice(2) : etag;
  let i = 0;
  while (i < list.length) {
    while (i < list.length && (list[i] === ' ' || list[i] === '\t' || list[i] === ',')) i++;
    if (i >= list.length) break;
    let weak = false;
    if (list.startsWith('W/', i)) {
      weak = true;
      i += 2;
    }
    if (list[i] !== '"') {
      // Not an entity tag: skip to the next comma, as lenient as browsers are.
      const next = list.indexOf(',', i);
      i = next === -1 ? list.length : next + 1;
      continue;
    }
    const close = list.indexOf('"', i + 1);
    if (close === -1) break;
    const tag = list.slice(i, close + 1);
    i = close + 1;
    if (tag === ours && !(strong && weak)) return true;
  }
  return false;
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$`);
const RFC850 = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT$`,
);
const ASCTIME = new RegExp(`^${DAY} ${MONTH} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4}$`);

/**
 * An HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms, RFC 9110 §5.6.7)
 * as whole seconds, or undefined when absent or not one of those forms: a recipient must
 * ignore an invalid date, and `Date.parse` alone would read `0` or `2024` as dates.
 */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number;
  if (IMF_FIXDATE.test(v) || RFC850.test(v)) ms = Date.parse(v);
  else if (ASCTIME.test(v))
    ms = Date.parse(`${v} GMT`); // asctime has no zone; HTTP means GMT
  else return undefined;
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** One inclusive byte range. */
export type ByteRange = { start: number; end: number };

/**
 * - `'ignore'`: send the whole file (no Range, a syntax we do not know, or too many
 *   ranges: RFC 9110 §14.2 lets a server ignore Range).
 * - `'unsatisfiable'`: 416.
 * - a list: the satisfiable ranges, sorted and with overlapping or adjacent ones merged.
 */
export type RangeResult = 'ignore' | 'unsatisfiable' | ByteRange[];

/**
 * Parses `Range: bytes=...` for a file of `size` bytes. Ranges are sorted and merged,
 * so overlapping requests (`0-,0-,0-`...) cannot make us send a file many times over;
 * more than `maxRanges` parts (before merging) are ignored outright, as nginx and
 * Apache do, since many tiny ranges cost more than the whole file.
 */
export function parseRange(header: string | undefined, size: number, maxRanges: number): RangeResult {
  if (header === undefined) return 'ignore';
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return 'ignore';
  const specs = header.slice(eq + 1).split(',');
  const ranges: ByteRange[] = [];
  let count = 0;
  for (const rawSpec of specs) {
    const spec = rawSpec.trim();
    if (spec === '') continue; // RFC 9110 list syntax allows empty elements
    if (++count > maxRanges) return 'ignore';
    const m = /^(\d*)-(\d*)$/.exec(spec);
    if (!m || (m[1] === '' && m[2] === '')) return 'ignore';
    if (m[1] === '') {
      const suffix = Number(m[2]);
      if (suffix === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
    } else {
      const start = Number(m[1]);
      const end = m[2] === '' ? size - 1 : Number(m[2]);
      if (m[2] !== '' && end < start) return 'ignore'; // invalid range-spec: the whole header is invalid
      if (start >= size) continue;
      ranges.push({ start, end: Math.min(end, size - 1) });
    }
  }
  if (count === 0) return 'ignore';
  if (ranges.length === 0) return 'unsatisfiable';
  ranges.sort((a, b) => a.start - b.start);
  const merged: ByteRange[] = [ranges[0] as ByteRange];
  for (let i = 1; i < ranges.length; i++) {
    const r = ranges[i] as ByteRange;
    const last = merged[merged.length - 1] as ByteRange;
    if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push(r);
  }
  return merged;
}
