import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { check, checkOptions, PlankError, type Env, type LogLevel, type Middleware } from '@plank/core';

export type SimpleLoggerOptions = {
  /** The lowest level written: `debug`, `info`, `warn`, `error` or `fatal`. @default 'debug' */
  level?: LogLevel;
  /** Append to this file instead of `psgi.errors`; created (mode 0640) if missing, never through a symlink. */
  file?: string;
};

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal'];
const CODE = 'PLANK_ERR_SIMPLE_LOGGER_OPTION';
// O_NOFOLLOW: a symlink planted where the log should be must not redirect our writes (SECURITY.md).
const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * Sets `env['psgix.logger']` to a logger that writes entries at `level` and above, one
 * line each, to `psgi.errors` or to `file`, in Plack's SimpleLogger format:
 * `W [2026-12-05T20:06:30 #4242] WARN: disk almost full`. The request's id (RequestId's
 * `plank.request_id`) follows the pid when there is one. By name: `enable('SimpleLogger')`.
 *
 * @example
 * ```ts
 * import { simpleLogger } from '@plank/middleware-simple-logger';
 * export default simpleLogger({ level: 'info' })((env) => {
 *   env['psgix.logger']?.({ level: 'info', message: `hello from ${env.PATH_INFO}` });
 *   return [200, ['Content-Type', 'text/plain'], ['logged']];
 * });
 * ```
 */
export function simpleLogger(options?: SimpleLoggerOptions): Middleware {
  const o = checkOptions('SimpleLogger', CODE, options, {
    level: check.oneOf(...LEVELS),
    file: check.path,
  });
  const min = LEVELS.indexOf(o.level ?? 'debug');
  const file = o.file;
  if (file !== undefined) {
    try {
      closeSync(openSync(file, FLAGS, 0o640));
    } catch (err) {
      throw new PlankError(
        'PLANK_ERR_SIMPLE_LOGGER_FILE',
        `SimpleLogger: option "file" cannot be opened for appending, got ${JSON.stringify(file)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  let failed = false;

  return (app) =>
    function simpleLoggerApp(env) {
      env['psgix.logger'] = function simpleLog(entry) {
        const rank = LEVELS.indexOf(entry?.level);
        if (rank < min) return;
        const line = format(LEVELS[rank] as LogLevel, String(entry.message), env);
        if (file === undefined) {
          env['psgi.errors'].write(line);
          return;
        }
        // Written synchronously: a log line is never queued in memory, so none is lost when the
        // process exits right after (DESIGN §8), and the next write reopens the file, so a
        // logrotate rename is followed without a signal. App logs are lines, not a stream.
        try {
          const fd = openSync(file, FLAGS, 0o640);
          try {
            writeSync(fd, line);
          } finally {
            closeSync(fd);
          }
          failed = false;
        } catch (err) {
          // Logging must not fail the request; the failure is told once, not once per line.
          if (!failed) env['psgi.errors'].write(`SimpleLogger: cannot write ${file}: ${(err as Error).message}\n`);
          failed = true;
        }
      };
      return app(env);
    };
}

function format(level: LogLevel, message: string, env: Env): string {
  const id = env['plank.request_id'];
  const who = typeof id === 'string' ? `#${process.pid} ${id}` : `#${process.pid}`;
  // Continuation lines are indented, so every entry still starts a line with its level letter.
  const text = message.replace(/\r?\n$/, '').replace(/\r?\n/g, '\n    ');
  return `${level[0]?.toUpperCase()} [${localTime(new Date())} ${who}] ${level.toUpperCase()}: ${text}\n`;
}

function localTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The name `enable('SimpleLogger')` resolves to. */
export const plankMiddleware: { SimpleLogger: typeof simpleLogger } = { SimpleLogger: simpleLogger };
