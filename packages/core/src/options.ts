import { optionError, PlankError, show } from './errors.js';
import { didYouMean } from './suggest.js';

/**
 * The code of every bad option given to core's own middleware and classes; each package has
 * one of its own by the rule `PLANK_ERR_<PACKAGE>_OPTION`.
 */
export const CORE_OPTION = 'PLANK_ERR_CORE_OPTION';

/**
 * One rule for one option: what a good value is, and how to read it. `parse` returns the
 * value to use (a decimal string from the command line becomes a number) or `undefined`
 * when the value does not fit; `expected` completes the sentence `option "keep" …`.
 */
export type Check<T> = {
  /** Reads as the end of `option "x" …`: `must be a string`. */
  readonly expected: string;
  /** The value to use, or `undefined` when `value` does not fit. */
  readonly parse: (value: unknown) => T | undefined;
};

/** The checks of every option a factory knows, by option name. */
export type OptionSchema = Record<string, Check<unknown>>;

/** The value type a check produces. */
export type CheckedValue<C> = C extends Check<infer T> ? T : never;

/** What `checkOptions` returns for a schema: each option optional, typed by its check. */
export type CheckedOptions<S extends OptionSchema> = { [K in keyof S]?: CheckedValue<S[K]> };

/**
 * Checks a factory's `options` once, when the factory is called: `options` must be
 * undefined or an object; every key must be in `schema` (a typo fails with "did you mean");
 * every value that is not undefined must pass its check. Returns a new object holding the
 * parsed values of the options that were given, typed from the schema; defaults stay the
 * caller's (`const { keep = 7 } = checkOptions(...)`).
 *
 * Every error is a `PlankError` with the caller's `code`, one per package by the rule
 * `PLANK_ERR_<PACKAGE>_OPTION`, and a message that names the option and shows the value:
 * `AccessLog: option "keep" must be an integer >= 0, got -1`.
 *
 * @example
 * ```ts
 * import { check, checkOptions } from '@plank/core';
 * const o = checkOptions('AccessLog', 'PLANK_ERR_ACCESS_LOG_OPTION', { keep: '14' }, {
 *   file: check.path,
 *   rotate: check.oneOf('daily', 'hourly', 'never'),
 *   keep: check.integer({ min: 0 }),
 * });
 * o.keep; // 14, a number
 * ```
 */
export function checkOptions<S extends OptionSchema>(
  where: string,
  code: string,
  options: unknown,
  schema: S,
): CheckedOptions<S> {
  const result: Record<string, unknown> = {};
  if (options === undefined) return result as CheckedOptions<S>;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PlankError(code, `${where}: options must be an object, got ${show(options)}`);
  }
  const known = Object.keys(schema);
  for (const [key, value] of Object.entries(options)) {
    const rule = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (rule === undefined) throw new PlankError(code, `${where}: unknown option "${key}" (${hint(key, known)})`);
    if (value === undefined) continue;
    const parsed = rule.parse(value);
    if (parsed === undefined) throw optionError(code, where, key, value, rule.expected);
    result[key] = parsed;
  }
  return result as CheckedOptions<S>;
}

function hint(key: string, known: string[]): string {
  if (known.length === 0) return 'it takes no options';
  const near = didYouMean(key, known);
  return `${near === undefined ? '' : `did you mean "${near}"?; `}known options: ${known.join(', ')}`;
}

/** Bounds for `check.integer` and `check.number`, both inclusive. */
export type Range = { min?: number; max?: number };

// Command-line values arrive as strings (`--keep=14`); only plain decimal notation is read,
// because `Number()` would also take '', ' ', '0x10' and '1e3'.
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const BOOLEANS = new Map<unknown, boolean>([
  [true, true],
  [false, false],
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
]);

function numeric(value: unknown, pattern: RegExp): number | undefined {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && pattern.test(value) ? Number(value) : undefined;
}

function inRange(n: number | undefined, { min, max }: Range): number | undefined {
  if (n === undefined || !Number.isFinite(n)) return undefined;
  return (min !== undefined && n < min) || (max !== undefined && n > max) ? undefined : n;
}

function rangeText({ min, max }: Range): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  return max !== undefined ? ` <= ${max}` : '';
}

/** The checks `checkOptions` schemas are made of. */
export type Checks = {
  /** Any string. */
  readonly string: Check<string>;
  /** A non-empty string without NUL, which no file system accepts. */
  readonly path: Check<string>;
  /** `true`/`false`, or `'true'`/`'false'`/`'1'`/`'0'` as the command line passes them. */
  readonly boolean: Check<boolean>;
  /** A function. */
  readonly function: Check<(...args: any[]) => any>;
  /** A regular expression. */
  readonly regexp: Check<RegExp>;
  /** Seconds, as a finite number >= 0 or a decimal string; gives a number of seconds. */
  readonly seconds: Check<number>;
  /** One of the values given, compared with `===`. */
  oneOf<const V extends readonly (string | number | boolean)[]>(...values: V): Check<V[number]>;
  /** A safe integer within the range (inclusive), or a decimal string of one. */
  integer(range?: Range): Check<number>;
  /** A finite number within the range (inclusive), or a decimal string of one. */
  number(range?: Range): Check<number>;
  /** An array whose every item passes `item`; gives the parsed items. */
  array<T>(item: Check<T>): Check<T[]>;
  /** A value that passes the first check that accepts it. */
  either<C extends readonly Check<unknown>[]>(...checks: C): Check<CheckedValue<C[number]>>;
  /**
   * A rule of the caller's own: `parse` returns the value to use, or `undefined` when the
   * value does not fit; `expected` completes `option "x" …` (`must be an octal file mode`).
   */
  custom<T>(expected: string, parse: (value: unknown) => T | undefined): Check<T>;
};

/**
 * Ready-made checks for `checkOptions`.
 *
 * @example
 * ```ts
 * import { check, checkOptions } from '@plank/core';
 * const { timeout = 5, on = true } = checkOptions('Thing', 'PLANK_ERR_THING_OPTION', { timeout: '2.5', on: '0' }, {
 *   timeout: check.seconds,
 *   on: check.boolean,
 * });
 * // timeout === 2.5, on === false
 * ```
 */
export const check: Checks = {
  string: { expected: 'must be a string', parse: (v) => (typeof v === 'string' ? v : undefined) },
  path: {
    expected: 'must be a non-empty path without NUL characters',
    parse: (v) => (typeof v === 'string' && v !== '' && !v.includes('\0') ? v : undefined),
  },
  boolean: {
    expected: 'must be a boolean (or "true", "false", "1", "0")',
    parse: (v) => BOOLEANS.get(v),
  },
  function: {
    expected: 'must be a function',
    parse: (v) => (typeof v === 'function' ? (v as (...args: any[]) => any) : undefined),
  },
  regexp: { expected: 'must be a RegExp', parse: (v) => (v instanceof RegExp ? v : undefined) },
  seconds: {
    expected: 'must be a number of seconds >= 0',
    parse: (v) => inRange(numeric(v, DECIMAL), { min: 0 }),
  },
  oneOf: (...values) => ({
    expected: `must be one of ${values.map(show).join(', ')}`,
    parse: (v) => values.find((known) => known === v),
  }),
  integer: (range = {}) => ({
    expected: `must be an integer${rangeText(range)}`,
    parse: (v) => {
      const n = inRange(numeric(v, INTEGER), range);
      return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
    },
  }),
  number: (range = {}) => ({
    expected: `must be a number${rangeText(range)}`,
    parse: (v) => inRange(numeric(v, DECIMAL), range),
  }),
  array: (item) => ({
    expected: `must be an array; each item ${item.expected}`,
    parse: (v) => {
      if (!Array.isArray(v)) return undefined;
      const items = v.map((x) => item.parse(x));
      return items.some((x) => x === undefined) ? undefined : (items as NonNullable<(typeof items)[number]>[]);
    },
  }),
  either: (...checks) => ({
    expected: checks.every((c) => c.expected.startsWith('must be '))
      ? `must be ${checks.map((c) => c.expected.slice('must be '.length)).join(' or ')}`
      : checks.map((c) => c.expected).join(', or '),
    parse: (v) => {
      for (const c of checks) {
        const parsed = c.parse(v);
        if (parsed !== undefined) return parsed as CheckedValue<(typeof checks)[number]>;
      }
      return undefined;
    },
  }),
  custom: (expected, parse) => ({ expected, parse }),
};
