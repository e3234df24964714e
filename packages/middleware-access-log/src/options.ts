import { check, checkOptions, optionError, PlankError } from '@plank/core';
import type { BlockHandler, CharHandler } from './format.js';
import { parseRotate, type Rotate } from './period.js';
import { unwritable } from './writable.js';

/** The name in every option error, as `enable('AccessLog')` spells it. */
export const WHERE = 'AccessLog';
/** Every bad option of this package, by Plank's rule `PLANK_ERR_<PACKAGE>_OPTION`. */
export const CODE = 'PLANK_ERR_ACCESS_LOG_OPTION';

const handlerMap = check.custom('must be an object of single-letter names to functions', (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined,
);

const SCHEMA = {
  format: check.custom('must be "combined", "common" or a non-empty format string', (v) =>
    typeof v === 'string' && v !== '' ? v : undefined,
  ),
  logger: check.function,
  stream: check.custom('must be a writable: an object with a write() method', (v) =>
    typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function'
      ? (v as { write(chunk: string): unknown })
      : undefined,
  ),
  file: check.path,
  rotate: check.custom('must be "daily", "hourly", "<N>h", "<N>m" or "<N>s" (at most one day)', (v) =>
    typeof v === 'string' && parseRotate(v) ? (v as Rotate) : undefined,
  ),
  // A count of files, also as the command line passes it (`--keep=14`), or days as '14d'.
  keep: check.custom('must be a number of files (>= 1) or days as "<N>d"', (v) => {
    if (typeof v === 'string' && /^[1-9]\d*d$/.test(v)) return v as `${number}d`;
    return check.integer({ min: 1 }).parse(v);
  }),
  symlink: check.either(check.boolean, check.path),
  utc: check.boolean,
  charHandlers: handlerMap,
  blockHandlers: handlerMap,
  onError: check.function,
  clientErrors: check.boolean,
};

export type AccessLogOptions = {
  /** `combined`, `common` or any mod_log_config format string. @default 'combined' */
  format?: string;
  /** Called with each line (newline included), as Plack's `logger`. */
  logger?: (line: string) => void;
  /** Any writable (`process.stdout`, a socket, a file stream): lines are batched per event-loop turn and honour backpressure. */
  stream?: { write(chunk: string): unknown };
  /** A file to append to; `%DATE%` in the name is replaced by the rotation period. */
  file?: string;
  /** How often the file changes: `daily`, `hourly`, `Nh`, `Nm` (`Ns` too, for tests). @default 'daily' when `file` holds `%DATE%` */
  rotate?: Rotate;
  /** Old files to keep: a count (`14`) or days (`'14d'`). @default keep everything */
  keep?: number | `${number}d`;
  /** Keep a symlink to the current file: a path, or `true` for the file name without `%DATE%`. @default false */
  symlink?: string | boolean;
  /** Times (`%t`, `%{...}t`) and file names in UTC instead of local time. @default false */
  utc?: boolean;
  /** Custom `%x` directives, as Plack's `char_handlers`. */
  charHandlers?: Record<string, CharHandler>;
  /** Custom `%{arg}x` directives, as Plack's `block_handlers`. */
  blockHandlers?: Record<string, BlockHandler>;
  /** Told about output failures (never thrown): once when a failure episode starts, once when writing works again (`code: 'PLANK_ACCESS_LOG_RECOVERED'`, `dropped`). @default a line on stderr */
  onError?: (err: Error) => void;
  /**
   * Also log the requests the server answered itself, without the app (400 for a request it
   * cannot parse or a bad Host, 408, 413, 431, 501), as Apache and nginx log them. Fields the
   * server could not read are `-`. @default true
   */
  clientErrors?: boolean;
};

/**
 * Checks AccessLog's options once, when the factory is called: each value through core's
 * checker, then the rules across options, then — without creating anything — that `file`
 * and `symlink` can be written.
 */
export function checkAccessLogOptions(options: unknown): AccessLogOptions {
  const o = checkOptions(WHERE, CODE, options, SCHEMA) as AccessLogOptions;
  for (const name of ['charHandlers', 'blockHandlers'] as const) {
    for (const [k, fn] of Object.entries(o[name] ?? {}))
      if (!/^[A-Za-z]$/.test(k) || typeof fn !== 'function')
        throw optionError(CODE, WHERE, `${name}.${k}`, fn, 'must be a function under a single-letter name');
  }
  const outputs = (['logger', 'stream', 'file'] as const).filter((k) => o[k] !== undefined);
  if (outputs.length > 1)
    throw new PlankError(CODE, `${WHERE}: give one of logger, stream or file, got ${outputs.join(' and ')}`);
  const fileOnly = (['rotate', 'keep', 'symlink'] as const).filter((k) => o[k] !== undefined);
  if (o.file === undefined && fileOnly.length > 0)
    throw new PlankError(CODE, `${WHERE}: option "${fileOnly[0]}" needs the "file" option`);
  const dated = o.file?.includes('%DATE%') ?? false;
  if (o.rotate !== undefined && !dated)
    throw optionError(
      CODE,
      WHERE,
      'file',
      o.file,
      'must contain %DATE% when "rotate" is set (rotated files are named by their period)',
    );
  if (o.keep !== undefined && !dated)
    throw optionError(CODE, WHERE, 'file', o.file, 'must contain %DATE% when "keep" is set');
  // A link named like the file itself would be renamed over the log.
  if (o.symlink && (!dated || o.symlink === o.file))
    throw optionError(
      CODE,
      WHERE,
      'symlink',
      o.symlink,
      `needs a file name with %DATE% and a link path other than the file (file is ${JSON.stringify(o.file)})`,
    );
  // Checked now, so a broken set-up fails at build time (and plankup --check), yet nothing
  // is created until the first line is written.
  for (const [name, path] of [
    ['file', o.file],
    ['symlink', typeof o.symlink === 'string' ? o.symlink : undefined],
  ] as const) {
    const why = path === undefined ? undefined : unwritable(path);
    if (why) throw optionError(CODE, WHERE, name, path, `must name a place this process can write (${why})`);
  }
  return o;
}
