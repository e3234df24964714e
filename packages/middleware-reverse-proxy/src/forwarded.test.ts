import { describe, expect, test } from 'vitest';
import { parseForwarded } from './forwarded.js';

const fields = (header: string): Array<Record<string, unknown>> =>
  parseForwarded(header).map(({ raw: _raw, ...rest }) => rest);

describe('parseForwarded', () => {
  test('reads the RFC 7239 §4 examples', () => {
    expect(fields('for="_gazonk"')).toEqual([{ for: '_gazonk', bad: false }]);
    expect(fields('For="[2001:db8:cafe::17]:4711"')).toEqual([{ for: '[2001:db8:cafe::17]:4711', bad: false }]);
    expect(fields('for=192.0.2.60;proto=http;by=203.0.113.43')).toEqual([
      { for: '192.0.2.60', proto: 'http', bad: false },
    ]);
    expect(fields('for=192.0.2.43, for=198.51.100.17')).toEqual([
      { for: '192.0.2.43', bad: false },
      { for: '198.51.100.17', bad: false },
    ]);
  });

  test('unescapes quoted strings and keeps commas inside them', () => {
    expect(fields('for="a\\"b,c";host="x.example"')).toEqual([{ for: 'a"b,c', host: 'x.example', bad: false }]);
  });

  test('treats parameter names case-insensitively and tolerates whitespace around ; and ,', () => {
    expect(fields('  FOR=1.2.3.4 ; Proto=https ,for=5.6.7.8  ')).toEqual([
      { for: '1.2.3.4', proto: 'https', bad: false },
      { for: '5.6.7.8', bad: false },
    ]);
  });

  test('ignores empty elements and empty pairs', () => {
    expect(fields(',, for=1.2.3.4;;proto=http ,')).toEqual([{ for: '1.2.3.4', proto: 'http', bad: false }]);
  });

  test('marks an element bad when a parameter repeats, a quote is unclosed or a pair is malformed, and keeps reading the next one', () => {
    const els = parseForwarded('for=1.1.1.1;for=2.2.2.2, for="3.3.3.3, for=4.4.4.4');
    expect(els.map((e) => e.bad)).toEqual([true, true]);
    expect(els[0]?.raw).toBe('for=1.1.1.1;for=2.2.2.2');
    expect(parseForwarded('junk, for=5.5.5.5').map((e) => [e.bad, e.for])).toEqual([
      [true, undefined],
      [false, '5.5.5.5'],
    ]);
    expect(parseForwarded('for=1.2.3.4 x;proto=https')[0]).toMatchObject({ bad: true });
    expect(parseForwarded('for=;proto=https')[0]).toMatchObject({ bad: true });
  });
});
