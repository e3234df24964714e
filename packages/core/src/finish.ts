import { chunkLength } from './body.js';
import { responseCb, type ResponseCallback, type ResponseCbOptions } from './response-cb.js';
import type { App, AppResult, Env, FinishHandler } from './types.js';

/**
 * Runs `handler` once when the response for `env` is over: its last byte handed to the
 * socket, or the client gone first (`aborted`). Returns false when the server offers no
 * such notification (not a Plank server), so the caller can fall back to watching the body
 * (or call {@link watchFinish}, which does both).
 *
 * @example
 * ```ts
 * import { onFinish } from '@plank/core';
 * const timer = (app) => (env) => {
 *   const t0 = performance.now();
 *   onFinish(env, (info) => console.log(info.status, info.bodyBytes, performance.now() - t0));
 *   return app(env);
 * };
 * ```
 */
export function onFinish(env: Env, handler: FinishHandler): boolean {
  const handlers = env['plank.finish'];
  if (!handlers) return false;
  handlers.push(handler);
  return true;
}

/**
 * Calls `app(env)` and runs `handler` once when that response is over, on any server. A
 * Plank server reports the finish itself ({@link onFinish}); elsewhere the body is watched
 * instead, and the handler runs when it has been read to its end, with the bytes counted
 * (`headerBytes` 0, `aborted` false: that is all a body can tell). An app that throws or
 * rejects is reported as a 500 with no body before the error goes on. Watching changes no
 * byte and no header (`Content-Length` stays), though the body becomes an async iterable
 * over the same chunks; a body dropped unread (by Head further out) is released and
 * reported with 0 bytes.
 *
 * On a Plank server this costs what `onFinish` and the call cost, nothing more, so
 * middleware can use it on every request.
 *
 * @example
 * ```ts
 * import { watchFinish } from '@plank/core';
 * const sizes = (app) => (env) =>
 *   watchFinish(env, app, (info) => console.log(env.PATH_INFO, info.status, info.bodyBytes));
 * ```
 */
export function watchFinish(env: Env, app: App, handler: FinishHandler): AppResult | Promise<AppResult> {
  if (onFinish(env, handler)) return app(env);
  return watchBody(env, app, handler);
}

const KEEP_LENGTH: ResponseCbOptions = { keepContentLength: true };

// Not a Plank server: the end of the body is the best "last byte" there is. A body filter
// sees every chunk, whatever the response kind. Each path below ends in exactly one
// finish(): a throw, a rejection, or the filter's one call with null.
function watchBody(env: Env, app: App, handler: FinishHandler): AppResult | Promise<AppResult> {
  const finish = (status: number, bodyBytes: number): void => {
    try {
      handler({ status, bodyBytes, headerBytes: 0, aborted: false });
    } catch (err) {
      // As the servers do: a failing handler must not break the response it watches.
      env['psgi.errors'].write(`plank.finish handler failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    }
  };
  const countBody: ResponseCallback = (res) => {
    let bytes = 0;
    return function countChunk(chunk) {
      if (chunk === null) finish(res[0], bytes);
      else bytes += chunkLength(chunk);
      return chunk;
    };
  };
  // The app's error, or one from a result that is no response, both end as the server's 500.
  let result: AppResult | Promise<AppResult>;
  try {
    result = responseCb(app(env), countBody, KEEP_LENGTH);
  } catch (err) {
    finish(500, 0);
    throw err;
  }
  if (!(result instanceof Promise)) return result;
  return result.catch((err: unknown) => {
    finish(500, 0);
    throw err;
  });
}
