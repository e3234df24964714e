import { describe, expect, expectTypeOf, it } from 'vitest';
import { check, checkOptions, didYouMean, type PlankError } from './index.js';

const CODE = 'PLANK_ERR_THING_OPTION';

// The error `checkOptions` throws for these options, so each test can look at code and text.
function failure(options: unknown, schema: Parameters<typeof checkOptions>[3]): PlankError {
  try {
    checkOptions('Thing', CODE, options, schema);
  } catch (err) {
    return err as PlankError;
  }
  throw new Error('checkOptions accepted the options');
}

describe('checkOptions', () => {
  it('returns an empty object for undefined options and skips options whose value is undefined', () => {
    expect(checkOptions('Thing', CODE, undefined, { a: check.string })).toEqual({});
    expect(checkOptions('Thing', CODE, { a: undefined, b: 'x' }, { a: check.string, b: check.string })).toEqual({
      b: 'x',
    });
  });

  it('returns the parsed values, typed from the schema', () => {
    const o = checkOptions(
      'Thing',
      CODE,
      { keep: '14', rotate: 'daily', on: 'false', ratio: 0.5 },
      {
        keep: check.integer({ min: 0 }),
        rotate: check.oneOf('daily', 'hourly', 'never'),
        on: check.boolean,
        ratio: check.number({ min: 0, max: 1 }),
        file: check.path,
      },
    );
    expect(o).toEqual({ keep: 14, rotate: 'daily', on: false, ratio: 0.5 });
    expectTypeOf(o).toEqualTypeOf<{
      keep?: number;
      rotate?: 'daily' | 'hourly' | 'never';
      on?: boolean;
      ratio?: number;
      file?: string;
    }>();
  });

  it('does not change the options object it was given', () => {
    const given = { keep: '3' };
    checkOptions('Thing', CODE, given, { keep: check.integer() });
    expect(given).toEqual({ keep: '3' });
  });

  it('rejects options that are not an object, with the caller code', () => {
    for (const bad of [null, 'x', 3, ['a']]) {
      const err = failure(bad, { a: check.string });
      expect(err.code).toBe(CODE);
      expect(err.message).toMatch(/^Thing: options must be an object, got /);
    }
  });

  it('names an unknown option, suggests the closest known one and lists them all', () => {
    const err = failure({ fomat: 'x' }, { format: check.string, file: check.path });
    expect(err.name).toBe('PlankError');
    expect(err.code).toBe(CODE);
    expect(err.message).toBe('Thing: unknown option "fomat" (did you mean "format"?; known options: format, file)');
  });

  it('suggests nothing when no known option is close, and says when there are no options at all', () => {
    expect(failure({ zzz: 1 }, { format: check.string }).message).toBe(
      'Thing: unknown option "zzz" (known options: format)',
    );
    expect(failure({ max: 1 }, {}).message).toBe('Thing: unknown option "max" (it takes no options)');
  });

  it('does not take inherited object keys for known options', () => {
    expect(failure({ toString: 'x' }, { a: check.string }).message).toMatch(/unknown option "toString"/);
  });

  it('names the option, what it must be and the value it got', () => {
    const err = failure({ keep: -1 }, { keep: check.integer({ min: 0 }) });
    expect(err.code).toBe(CODE);
    expect(err.message).toBe('Thing: option "keep" must be an integer >= 0, got -1');
  });
});

describe('check', () => {
  const accepts = (c: { parse: (v: unknown) => unknown }, value: unknown) => c.parse(value);

  it('string takes strings only and path takes non-empty strings without NUL', () => {
    expect(accepts(check.string, '')).toBe('');
    expect(accepts(check.string, 1)).toBeUndefined();
    expect(accepts(check.path, 'logs/a.log')).toBe('logs/a.log');
    expect(accepts(check.path, '')).toBeUndefined();
    expect(accepts(check.path, 'a\0b')).toBeUndefined();
    expect(failure({ file: '' }, { file: check.path }).message).toBe(
      'Thing: option "file" must be a non-empty path without NUL characters, got ""',
    );
  });

  it('boolean takes booleans and the strings the command line passes', () => {
    expect(['true', '1', true].map((v) => accepts(check.boolean, v))).toEqual([true, true, true]);
    expect(['false', '0', false].map((v) => accepts(check.boolean, v))).toEqual([false, false, false]);
    for (const bad of ['yes', 1, 0, '', null]) expect(accepts(check.boolean, bad)).toBeUndefined();
  });

  it('integer takes safe integers and decimal integer strings within the range', () => {
    const keep = check.integer({ min: 0, max: 10 });
    expect(accepts(keep, 3)).toBe(3);
    expect(accepts(keep, '14')).toBeUndefined();
    expect(accepts(keep, '7')).toBe(7);
    expect(accepts(keep, '+7')).toBe(7);
    for (const bad of [1.5, '1.5', '', ' ', '0x10', '1e1', Number.NaN, -1, 11, '7 ', true]) {
      expect(accepts(keep, bad)).toBeUndefined();
    }
    expect(accepts(check.integer(), 2 ** 53)).toBeUndefined();
    expect(keep.expected).toBe('must be an integer from 0 to 10');
    expect(check.integer({ max: 3 }).expected).toBe('must be an integer <= 3');
    expect(check.integer().expected).toBe('must be an integer');
  });

  it('number takes finite numbers and decimal strings within the range', () => {
    const ratio = check.number({ min: 0, max: 1 });
    expect(['0.25', '.5', '1.', 0, 1].map((v) => accepts(ratio, v))).toEqual([0.25, 0.5, 1, 0, 1]);
    for (const bad of [1.01, -0.1, '', '0x1', '1e-1', Number.POSITIVE_INFINITY, Number.NaN, '.']) {
      expect(accepts(ratio, bad)).toBeUndefined();
    }
  });

  it('seconds takes finite numbers and decimal strings >= 0 and gives a number of seconds', () => {
    expect(accepts(check.seconds, '2.5')).toBe(2.5);
    expect(accepts(check.seconds, 0)).toBe(0);
    for (const bad of [-1, '-1', Number.POSITIVE_INFINITY, '5s', '', null]) {
      expect(accepts(check.seconds, bad)).toBeUndefined();
    }
    expect(failure({ timeout: '5s' }, { timeout: check.seconds }).message).toBe(
      'Thing: option "timeout" must be a number of seconds >= 0, got "5s"',
    );
  });

  it('oneOf takes exactly the values listed and lists them when it fails', () => {
    const rotate = check.oneOf('daily', 'hourly', 'never');
    expect(accepts(rotate, 'hourly')).toBe('hourly');
    expect(accepts(rotate, 'Daily')).toBeUndefined();
    expect(rotate.expected).toBe('must be one of "daily", "hourly", "never"');
  });

  it('function and regexp take only those', () => {
    const f = () => 1;
    expect(accepts(check.function, f)).toBe(f);
    expect(accepts(check.function, 'f')).toBeUndefined();
    expect(accepts(check.regexp, /x/)).toEqual(/x/);
    expect(accepts(check.regexp, 'x')).toBeUndefined();
  });

  it('array checks every item and gives the parsed items', () => {
    const ports = check.array(check.integer({ min: 1 }));
    expect(accepts(ports, ['80', 443])).toEqual([80, 443]);
    expect(accepts(ports, [80, 0])).toBeUndefined();
    expect(accepts(ports, '80')).toBeUndefined();
    expect(failure({ trusted: ['a', 5] }, { trusted: check.array(check.string) }).message).toBe(
      'Thing: option "trusted" must be an array; each item must be a string, got ["a",5]',
    );
  });

  it('either takes a value that any of its checks takes, and names them all when it fails', () => {
    const path = check.either(check.string, check.regexp);
    expect(accepts(path, '/s')).toBe('/s');
    expect(accepts(path, /^\/s/)).toEqual(/^\/s/);
    expect(failure({ path: 1 }, { path }).message).toBe('Thing: option "path" must be a string or a RegExp, got 1');
    expectTypeOf(checkOptions('Thing', CODE, {}, { path }).path).toEqualTypeOf<string | RegExp | undefined>();
  });

  it('custom uses the caller parse and sentence', () => {
    const mode = check.custom('must be an octal file mode like 0o700', (v) =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0o7777 ? v : undefined,
    );
    expect(checkOptions('Thing', CODE, { mode: 0o700 }, { mode })).toEqual({ mode: 0o700 });
    expect(failure({ mode: 'rwx' }, { mode }).message).toBe(
      'Thing: option "mode" must be an octal file mode like 0o700, got "rwx"',
    );
  });
});

describe('didYouMean', () => {
  it('finds the closest name ignoring case, and nothing when none is close', () => {
    expect(didYouMean('fomat', ['file', 'format'])).toBe('format');
    expect(didYouMean('Acesslog', ['Runtime', 'AccessLog', 'Static'])).toBe('AccessLog');
    expect(didYouMean('headername', ['headerName'])).toBe('headerName');
    expect(didYouMean('fromat', ['format'])).toBe('format');
    expect(didYouMean('xyz', ['format', 'file'])).toBeUndefined();
    expect(didYouMean('a', [])).toBeUndefined();
  });
});
