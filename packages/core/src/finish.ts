import type { Env, FinishHandler } from './types.js';

/**
 * Runs `handler` once when the response for `env` is over: its last byte handed to the
 * socket, or the client gone first (`aborted`). Returns false when the server offers no
 * such notification (not a Plank server), so the caller can fall back to watching the body.
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
