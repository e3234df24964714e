import type { ServerResponse } from 'node:http';
import type { Chunk, Env } from '@plank/core';
import { headerBytes } from './node-private.js';
import type { Progress } from './send-file.js';

// The end of a response: finish handlers (`plank.finish`, with what was sent) and cleanup
// handlers (`psgix.cleanup.handlers`) run once, when the response is over or the client
// has gone.

/** Runs the finish and cleanup handlers once the response is over, if anyone registered any. */
export function finishLater(env: Env, res: ServerResponse, bytes: number, body?: Chunk[]): void {
  const fin = env['plank.finish'];
  const cleanup = env['psgix.cleanup.handlers'];
  if ((fin === undefined || fin.length === 0) && (cleanup === undefined || cleanup.length === 0)) return;
  // Counting is deferred to here so the common case (nobody listening) never pays for it.
  if (bytes < 0 && body) {
    bytes = 0;
    for (let i = 0; i < body.length; i++) bytes += byteLength(body[i] as Chunk);
  }
  const progress: Progress = { bytes, aborted: false, done: false, wake: undefined };
  if (res.writableFinished) runFinish(env, res, progress);
  else watchClose(env, res, progress);
}

export function watchClose(env: Env, res: ServerResponse, progress: Progress): void {
  // The client may have gone while the app was still working on its answer.
  if (res.closed) {
    if (!res.writableFinished) progress.aborted = true;
    runFinish(env, res, progress);
    return;
  }
  // 'close' comes once per response: on() spares the wrapper once() allocates each time.
  res.on('close', () => {
    if (!res.writableFinished) progress.aborted = true;
    const wake = progress.wake;
    progress.wake = undefined;
    if (wake) wake();
    runFinish(env, res, progress);
  });
}

function runFinish(env: Env, res: ServerResponse, progress: Progress): void {
  if (progress.done) return;
  progress.done = true;
  const fin = env['plank.finish'];
  if (fin && fin.length > 0) {
    const info = {
      status: res.statusCode,
      bodyBytes: progress.bytes,
      headerBytes: headerBytes(res),
      aborted: progress.aborted,
    };
    for (const handler of fin) {
      try {
        handler(info);
      } catch (err) {
        logError(env, err);
      }
    }
  }
  const cleanup = env['psgix.cleanup.handlers'];
  if (cleanup && cleanup.length > 0) {
    for (const handler of cleanup) {
      try {
        handler(env);
      } catch (err) {
        logError(env, err);
      }
    }
  }
}

/** The bytes a chunk takes on the wire (strings as UTF-8). */
export function byteLength(chunk: Chunk): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, 'utf8');
  // Not a valid chunk: node will refuse it after the headers; count nothing.
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

/** Writes an error and its stack to the request's `psgi.errors`. */
export function logError(env: Env, err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : `Error: ${String(err)}`;
  try {
    (env['psgi.errors'] ?? process.stderr).write(`${text}\n`);
  } catch {
    process.stderr.write(`${text}\n`);
  }
}
