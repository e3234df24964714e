import { describe, expect, it } from 'vitest';
import type { Env } from '@plank/core';
import { evaluatePreconditions, ifRangeHolds, matchesAny, parseHttpDate, parseRange } from './conditional.js';

const env = (h: Record<string, string>): Env => h as unknown as Env;
const mtime = Math.floor(Date.parse('Wed, 21 Oct 2015 07:28:00 GMT') / 1000);
const v = { etag: '"abc"', mtimeSec: mtime };

describe('evaluatePreconditions', () => {
  it('proceeds without conditional headers', () => {
    expect(evaluatePreconditions(env({}), v)).toBe('proceed');
  });

  it('fails If-Match unless a tag matches strongly', () => {
    expect(evaluatePreconditions(env({ HTTP_IF_MATCH: '"x", "abc"' }), v)).toBe('proceed');
    expect(evaluatePreconditions(env({ HTTP_IF_MATCH: '*' }), v)).toBe('proceed');
    expect(evaluatePreconditions(env({ HTTP_IF_MATCH: 'W/"abc"' }), v)).toBe('failed');
    expect(evaluatePreconditions(env({ HTTP_IF_MATCH: '"x"' }), v)).toBe('failed');
    expect(evaluatePreconditions(env({ HTTP_IF_MATCH: '"abc"' }), { ...v, etag: 'W/"abc"' })).toBe('failed');
  });

  it('fails If-Unmodified-Since when the file is newer, and ignores it next to If-Match', () => {
    expect(evaluatePreconditions(env({ HTTP_IF_UNMODIFIED_SINCE: 'Wed, 21 Oct 2015 07:27:59 GMT' }), v)).toBe('failed');
    expect(evaluatePreconditions(env({ HTTP_IF_UNMODIFIED_SINCE: 'Wed, 21 Oct 2015 07:28:00 GMT' }), v)).toBe(
      'proceed',
    );
    expect(
      evaluatePreconditions(
        env({ HTTP_IF_MATCH: '"abc"', HTTP_IF_UNMODIFIED_SINCE: 'Wed, 21 Oct 2000 07:27:59 GMT' }),
        v,
      ),
    ).toBe('proceed');
  });

  it('answers not-modified for a weakly matching If-None-Match', () => {
    expect(evaluatePreconditions(env({ HTTP_IF_NONE_MATCH: 'W/"abc"' }), v)).toBe('not-modified');
    expect(evaluatePreconditions(env({ HTTP_IF_NONE_MATCH: '"a,b", "abc"' }), v)).toBe('not-modified');
    expect(evaluatePreconditions(env({ HTTP_IF_NONE_MATCH: '*' }), v)).toBe('not-modified');
    expect(evaluatePreconditions(env({ HTTP_IF_NONE_MATCH: '"other"' }), v)).toBe('proceed');
  });

  it('uses If-Modified-Since only without If-None-Match, at one-second precision', () => {
    expect(evaluatePreconditions(env({ HTTP_IF_MODIFIED_SINCE: 'Wed, 21 Oct 2015 07:28:00 GMT' }), v)).toBe(
      'not-modified',
    );
    expect(evaluatePreconditions(env({ HTTP_IF_MODIFIED_SINCE: 'Wed, 21 Oct 2015 07:27:59 GMT' }), v)).toBe('proceed');
    expect(evaluatePreconditions(env({ HTTP_IF_MODIFIED_SINCE: 'garbage' }), v)).toBe('proceed');
    expect(
      evaluatePreconditions(
        env({ HTTP_IF_NONE_MATCH: '"other"', HTTP_IF_MODIFIED_SINCE: 'Wed, 21 Oct 2015 07:28:00 GMT' }),
        v,
      ),
    ).toBe('proceed');
  });

  it('ignores dates when no Last-Modified is sent', () => {
    const noDate = { etag: undefined, mtimeSec: undefined };
    expect(evaluatePreconditions(env({ HTTP_IF_UNMODIFIED_SINCE: 'Wed, 21 Oct 2000 07:27:59 GMT' }), noDate)).toBe(
      'proceed',
    );
    expect(evaluatePreconditions(env({ HTTP_IF_MODIFIED_SINCE: 'Wed, 21 Oct 2030 07:27:59 GMT' }), noDate)).toBe(
      'proceed',
    );
  });
});

describe('ifRangeHolds', () => {
  it('holds for a strongly equal tag or the exact date, never for a weak tag', () => {
    expect(ifRangeHolds(env({}), v)).toBe(true);
    expect(ifRangeHolds(env({ HTTP_IF_RANGE: '"abc"' }), v)).toBe(true);
    expect(ifRangeHolds(env({ HTTP_IF_RANGE: '"old"' }), v)).toBe(false);
    expect(ifRangeHolds(env({ HTTP_IF_RANGE: 'W/"abc"' }), { ...v, etag: 'W/"abc"' })).toBe(false);
    expect(ifRangeHolds(env({ HTTP_IF_RANGE: 'Wed, 21 Oct 2015 07:28:00 GMT' }), v)).toBe(true);
    expect(ifRangeHolds(env({ HTTP_IF_RANGE: 'Wed, 21 Oct 2015 07:28:01 GMT' }), v)).toBe(false);
  });
});

describe('matchesAny', () => {
  it('ignores garbage between tags', () => {
    expect(matchesAny('foo, "abc"', '"abc"', false)).toBe(true);
    expect(matchesAny('"unterminated', '"abc"', false)).toBe(false);
  });
});

describe('parseRange', () => {
  it('parses first-last, open-ended and suffix ranges and clamps to the size', () => {
    expect(parseRange('bytes=0-9', 100, 20)).toEqual([{ start: 0, end: 9 }]);
    expect(parseRange('bytes=90-', 100, 20)).toEqual([{ start: 90, end: 99 }]);
    expect(parseRange('bytes=-10', 100, 20)).toEqual([{ start: 90, end: 99 }]);
    expect(parseRange('bytes=-1000', 100, 20)).toEqual([{ start: 0, end: 99 }]);
    expect(parseRange('bytes=50-1000', 100, 20)).toEqual([{ start: 50, end: 99 }]);
    expect(parseRange('BYTES = 1-2', 100, 20)).toEqual([{ start: 1, end: 2 }]);
  });

  it('returns unsatisfiable when no range overlaps the file', () => {
    expect(parseRange('bytes=100-', 100, 20)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100, 20)).toBe('unsatisfiable');
    expect(parseRange('bytes=200-300, 100-', 100, 20)).toBe('unsatisfiable');
  });

  it('ignores other units, bad syntax and reversed ranges', () => {
    for (const h of ['items=0-1', 'bytes=a-b', 'bytes=5-1', 'bytes=-', 'bytes=', 'bytes 0-1', 'bytes=0-1-2'])
      expect(parseRange(h, 100, 20)).toBe('ignore');
  });

  it('sorts and merges overlapping and adjacent ranges', () => {
    expect(parseRange('bytes=50-59, 0-9, 10-19, 5-14', 100, 20)).toEqual([
      { start: 0, end: 19 },
      { start: 50, end: 59 },
    ]);
    expect(parseRange(`bytes=${Array(20).fill('0-').join(',')}`, 100, 20)).toEqual([{ start: 0, end: 99 }]);
  });

  it('ignores the header when it asks for more ranges than allowed', () => {
    expect(parseRange(`bytes=${Array.from({ length: 21 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`, 100, 20)).toBe(
      'ignore',
    );
  });
});

describe('parseHttpDate', () => {
  it('reads the three HTTP-date forms as the same instant', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(t);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(t);
  });

  it('ignores anything else, even what Date.parse would accept', () => {
    for (const v of ['0', '2024', '2024-01-01T00:00:00Z', 'Sun, 06 Nov 1994 08:49:37 +0000', 'yesterday', ''])
      expect(parseHttpDate(v)).toBeUndefined();
  });
});
