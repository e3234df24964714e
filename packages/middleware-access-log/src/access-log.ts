import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CLIENT_ERROR_CHANNEL,
  type ClientErrorReport,
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
import type { LogRecord } from './format.js';
import { type AccessLogOptions, checkAccessLogOptions } from './options.js';
import { loggerSink, streamSink, type Sink } from './sink.js';

export type { AccessLogOptions };

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
  const unsubscribe =
    o.clientErrors === false
      ? undefined
      : logClientErrors(
          line,
          (text) => {
            if (out) out.write(text);
            else process.stderr.write(text);
          },
          report,
        );
  middleware.flush = () => out?.flush() ?? Promise.resolve();
  middleware.close = () => {
    unsubscribe?.();
    return out?.close() ?? Promise.resolve();
  };
  return middleware;
}

/**
 * Subscribes to the servers' client-error reports (core's CLIENT_ERROR_CHANNEL) and logs each
 * as a request: what the server could read of it, the status it sent, no body.
 */
function logClientErrors(
  line: (r: LogRecord) => string,
  write: (text: string) => void,
  report: (err: Error) => void,
): () => void {
  const onReport = (message: unknown): void => {
    const r = message as ClientErrorReport;
    const url = r.url ?? '-';
    const q = url.indexOf('?');
    const env = {
      REQUEST_METHOD: r.method ?? '-',
      REQUEST_URI: url,
      SCRIPT_NAME: '',
      PATH_INFO: q === -1 ? url : url.slice(0, q),
      QUERY_STRING: q === -1 ? '' : url.slice(q + 1),
      SERVER_NAME: '-',
      SERVER_PORT: '-',
      SERVER_PROTOCOL: '-',
      REMOTE_ADDR: r.remoteAddress ?? '',
      REMOTE_PORT: r.remotePort === undefined ? undefined : String(r.remotePort),
      'psgi.errors': process.stderr,
    } as unknown as Env;
    const at = r.time.getTime();
    try {
      write(
        line({
          env,
          status: r.status,
          headers: undefined,
          body: undefined,
          bodyBytes: 0,
          headerBytes: 0,
          aborted: false,
          start: at,
          end: at,
        }),
      );
    } catch (err) {
      report(err as Error);
    }
  };
  subscribe(CLIENT_ERROR_CHANNEL, onReport);
  return () => void unsubscribe(CLIENT_ERROR_CHANNEL, onReport);
}

/** Names `enable()` resolves: AccessLog::Timed is the same middleware, since timing to the last byte is the default. */
export const plankMiddleware: Record<string, (options?: AccessLogOptions) => AccessLogMiddleware> = {
  AccessLog: accessLog,
  'AccessLog::Timed': accessLog,
};
