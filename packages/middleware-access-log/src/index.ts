import {
  PlankError,
  optionError,
  responseCb,
  watchFinish,
  type App,
  type Env,
  type FinishInfo,
  type Middleware,
  type ResponseHead,
} from '@plank/core';
import { fileSink } from './file.js';
import { parseRotate, type Rotate } from './period.js';
import { compileFormat, type BlockHandler, type CharHandler, type LogRecord } from './format.js';
import { loggerSink, streamSink, type Sink } from './sink.js';
import { unwritable } from './writable.js';

export {
  compileFormat,
  FORMATS,
  type BlockHandler,
  type CharHandler,
  type CompiledFormat,
  type LogRecord,
} from './format.js';
export { escapeLogItem } from './escape.js';
export { strftime } from './strftime.js';
export type { Rotate } from './period.js';

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
};

/** The middleware, plus `flush()` and `close()` for a clean shutdown. */
export type AccessLogMiddleware = Middleware & {
  /** Resolves once every line logged so far reached the output. */
  flush(): Promise<void>;
  /** Flushes and closes the file it owns (never a stream or logger it was given). */
  close(): Promise<void>;
};

const WHERE = 'accessLog()';
const CODE = 'PLANK_ERR_ACCESS_LOG_OPTION';
const KNOWN = new Set([
  'format',
  'logger',
  'stream',
  'file',
  'rotate',
  'keep',
  'symlink',
  'utc',
  'charHandlers',
  'blockHandlers',
  'onError',
]);

function handlerMap(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null)
    throw optionError(CODE, WHERE, name, value, 'must be an object of single-letter names to functions');
  for (const [k, fn] of Object.entries(value)) {
    if (!/^[A-Za-z]$/.test(k) || typeof fn !== 'function')
      throw optionError(CODE, WHERE, `${name}.${k}`, fn, 'must be a function under a single-letter name');
  }
}

function validate(o: AccessLogOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new PlankError(CODE, `${WHERE}: options must be an object, got ${String(o)}`);
  for (const k of Object.keys(o))
    if (!KNOWN.has(k))
      throw optionError(
        CODE,
        WHERE,
        k,
        (o as Record<string, unknown>)[k],
        `is not an option (known: ${[...KNOWN].join(', ')})`,
      );
  if (o.format !== undefined && (typeof o.format !== 'string' || o.format === ''))
    throw optionError(
      'PLANK_ERR_ACCESS_LOG_FORMAT',
      WHERE,
      'format',
      o.format,
      'must be "combined", "common" or a non-empty format string',
    );
  if (o.logger !== undefined && typeof o.logger !== 'function')
    throw optionError(CODE, WHERE, 'logger', o.logger, 'must be a function (line) => void');
  if (
    o.stream !== undefined &&
    (typeof o.stream !== 'object' || o.stream === null || typeof o.stream.write !== 'function')
  )
    throw optionError(CODE, WHERE, 'stream', o.stream, 'must have a write() method');
  if (o.file !== undefined && (typeof o.file !== 'string' || o.file === ''))
    throw optionError(CODE, WHERE, 'file', o.file, 'must be a non-empty path');
  if (o.onError !== undefined && typeof o.onError !== 'function')
    throw optionError(CODE, WHERE, 'onError', o.onError, 'must be a function (err) => void');
  if (o.utc !== undefined && typeof o.utc !== 'boolean')
    throw optionError(CODE, WHERE, 'utc', o.utc, 'must be a boolean');
  const outputs = ['logger', 'stream', 'file'].filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  if (outputs.length > 1)
    throw new PlankError(
      'PLANK_ERR_ACCESS_LOG_OUTPUT',
      `${WHERE}: give one of logger, stream or file, got ${outputs.join(' and ')}`,
    );
  const fileOnly = (['rotate', 'keep', 'symlink'] as const).filter((k) => o[k] !== undefined);
  if (o.file === undefined && fileOnly.length > 0)
    throw new PlankError('PLANK_ERR_ACCESS_LOG_OUTPUT', `${WHERE}: option "${fileOnly[0]}" needs the "file" option`);
  if (o.rotate !== undefined) {
    if (typeof o.rotate !== 'string' || !parseRotate(o.rotate))
      throw optionError(
        'PLANK_ERR_ACCESS_LOG_ROTATE',
        WHERE,
        'rotate',
        o.rotate,
        'must be "daily", "hourly", "<N>h", "<N>m" or "<N>s" (at most one day)',
      );
    if (!o.file?.includes('%DATE%'))
      throw optionError(
        'PLANK_ERR_ACCESS_LOG_ROTATE',
        WHERE,
        'file',
        o.file,
        'must contain %DATE% when "rotate" is set (rotated files are named by their period)',
      );
  }
  if (o.keep !== undefined) {
    const ok =
      (typeof o.keep === 'number' && Number.isInteger(o.keep) && o.keep >= 1) ||
      (typeof o.keep === 'string' && /^[1-9]\d*d$/.test(o.keep));
    if (!ok)
      throw optionError(
        'PLANK_ERR_ACCESS_LOG_KEEP',
        WHERE,
        'keep',
        o.keep,
        'must be a number of files (>= 1) or days as "<N>d"',
      );
    if (!o.file?.includes('%DATE%'))
      throw optionError('PLANK_ERR_ACCESS_LOG_KEEP', WHERE, 'file', o.file, 'must contain %DATE% when "keep" is set');
  }
  if (o.symlink !== undefined && typeof o.symlink !== 'boolean' && (typeof o.symlink !== 'string' || o.symlink === ''))
    throw optionError(CODE, WHERE, 'symlink', o.symlink, 'must be true or a path');
  // A link named like the file itself would be renamed over the log.
  if (o.symlink && (!o.file?.includes('%DATE%') || o.symlink === o.file))
    throw optionError(
      CODE,
      WHERE,
      'symlink',
      o.symlink,
      `needs a file name with %DATE% and a link path other than the file (file is ${JSON.stringify(o.file)})`,
    );
  handlerMap('charHandlers', o.charHandlers);
  handlerMap('blockHandlers', o.blockHandlers);
  // Checked now, so a broken set-up fails at build time (and plankup --check), yet nothing
  // is created until the first line is written.
  for (const [name, path] of [
    ['file', o.file],
    ['symlink', typeof o.symlink === 'string' ? o.symlink : undefined],
  ] as const) {
    const why = path === undefined ? undefined : unwritable(path);
    if (why) throw optionError(CODE, WHERE, name, path, `must name a place this process can write (${why})`);
  }
}

function defaultReporter(): (err: Error) => void {
  return (err) => {
    process.stderr.write(`accessLog: ${err.message}\n`);
  };
}

/**
 * Writes one Apache-style line per request, when the response's last byte has left (so
 * `%D`, `%T` and `%b` are real), in any mod_log_config format. The format is compiled once,
 * here; a bad option or an unknown directive throws now, never at the first request.
 *
 * @example
 * ```ts
 * import { accessLog } from '@plank/middleware-access-log';
 * import { builder } from '@plank/core';
 * export default builder(({ enable }) => {
 *   enable(accessLog({ format: 'combined', file: 'logs/access.%DATE%.log', rotate: 'daily', keep: 14 }));
 *   return () => [200, ['Content-Type', 'text/plain'], ['Hello']];
 * });
 * ```
 */
export function accessLog(options: AccessLogOptions = {}): AccessLogMiddleware {
  validate(options);
  const line = compileFormat(options.format ?? 'combined', options);
  const report = options.onError ?? defaultReporter();
  let sink: Sink | undefined;
  if (options.logger) sink = loggerSink(options.logger, report);
  else if (options.stream) sink = streamSink(options.stream as Parameters<typeof streamSink>[0], report);
  else if (options.file) {
    const rotate = options.rotate ?? (options.file.includes('%DATE%') ? 'daily' : undefined);
    sink = fileSink(
      { path: options.file, rotate, keep: options.keep, symlink: options.symlink, utc: options.utc },
      report,
    );
  }
  const out = sink;
  const needsResponse = line.needsResponse;
  // Epoch time from the monotonic clock: one clock read per request instead of two.
  const origin = performance.timeOrigin;

  const middleware = function accessLogMiddleware(app: App): App {
    return function accessLogApp(env: Env) {
      const t0 = performance.now();
      let head: ResponseHead | undefined;
      // The server reports the finish; elsewhere watchFinish watches the body to its end.
      const result = watchFinish(env, app, function logLine(info: FinishInfo) {
        const record: LogRecord = {
          env,
          status: info.status,
          headers: head?.[1],
          body: head?.[2],
          bodyBytes: info.bodyBytes,
          headerBytes: info.headerBytes,
          aborted: info.aborted,
          start: origin + t0,
          end: origin + performance.now(),
        };
        let text: string;
        try {
          text = `${line(record)}\n`;
        } catch (err) {
          report(err as Error);
          return;
        }
        if (out) out.write(text);
        else env['psgi.errors'].write(text);
      });
      if (!needsResponse) return result;
      return responseCb(result, function captureHead(res) {
        head = res;
      });
    };
  } as AccessLogMiddleware;
  middleware.flush = () => out?.flush() ?? Promise.resolve();
  middleware.close = () => out?.close() ?? Promise.resolve();
  return middleware;
}

/** Names `enable()` resolves: AccessLog::Timed is the same middleware, since timing to the last byte is the default. */
export const plankMiddleware: Record<string, (options?: AccessLogOptions) => AccessLogMiddleware> = {
  AccessLog: accessLog,
  'AccessLog::Timed': accessLog,
};
