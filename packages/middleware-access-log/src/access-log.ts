import {
  responseCb,
  watchFinish,
  type App,
  type Env,
  type FinishInfo,
  type Middleware,
  type ResponseHead,
} from '@plank/core';
import { fileSink } from './file.js';
import { compileLine } from './compile.js';
import type { BlockHandler, CharHandler, LogRecord } from './format.js';
import { checkAccessLogOptions } from './options.js';
import type { Rotate } from './period.js';
import { loggerSink, streamSink, type Sink } from './sink.js';

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

export type AccessLogMiddleware = Middleware & {
  /** Resolves once every line logged so far reached the output. */
  flush(): Promise<void>;
  /** Flushes and closes the file it owns (never a stream or logger it was given). */
  close(): Promise<void>;
};

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
  const o = checkAccessLogOptions(options);
  const line = compileLine(o.format ?? 'combined', o, '\n');
  const report = o.onError ?? defaultReporter();
  let sink: Sink | undefined;
  if (o.logger) sink = loggerSink(o.logger, report);
  else if (o.stream) sink = streamSink(o.stream as Parameters<typeof streamSink>[0], report);
  else if (o.file) {
    const rotate = o.rotate ?? (o.file.includes('%DATE%') ? 'daily' : undefined);
    sink = fileSink({ path: o.file, rotate, keep: o.keep, symlink: o.symlink, utc: o.utc }, report);
  }
  const out = sink;
  const { needsResponse, needsEnd } = line;
  // Epoch time from the monotonic clock: one read on entry, and one at the finish only when
  // the format prints the time taken or the end (the common and combined formats do not).
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
          end: needsEnd ? origin + performance.now() : origin + t0,
        };
        let text: string;
        try {
          text = line(record);
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
