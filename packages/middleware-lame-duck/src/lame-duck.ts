import { check, checkOptions, lameDuckSince, wantLameDuck } from '@plank/core';
import type { Middleware } from '@plank/core';

/** Options of {@link lameDuck}. */
export type LameDuckOptions = {
  /** The health endpoint's path (matched against `PATH_INFO`; other paths pass through). @default '/health' */
  path?: string;
  /**
   * How long the host keeps accepting, with this endpoint failing, after it was asked to stop
   * or restart; then the usual drain starts. Make it longer than your balancer needs to take
   * a host out (HAProxy: `inter` × `fall`; Kubernetes: `periodSeconds` × `failureThreshold`).
   * Given as seconds (`--lame-duck=5` style strings too). @default 5
   */
  seconds?: number;
};

const OPTION_ERROR = 'PLANK_ERR_LAME_DUCK_OPTION';

const PATH = check.custom('must be a path starting with "/"', (v) =>
  typeof v === 'string' && v.startsWith('/') && !v.includes('\0') ? v : undefined,
);

const TEXT = ['Content-Type', 'text/plain; charset=utf-8', 'Cache-Control', 'no-store'];

/**
 * A health-check endpoint for a load balancer or Kubernetes probe: `GET`/`HEAD` on `path`
 * answers `200 OK` while the host serves, and `503` from the moment the host is asked to
 * stop or restart (TERM/INT of plankup; TERM, INT, HUP, USR1 of a prefork master), for
 * `seconds` before the server stops accepting, so the balancer takes the host out before
 * a single connection is refused. Every other request passes through untouched.
 * By name: `enable('LameDuck', { path, seconds })`.
 *
 * @example
 * ```ts
 * import { lameDuck } from '@plank/middleware-lame-duck';
 * export default lameDuck({ path: '/health', seconds: 6 })(() => [200, [], ['hello']]);
 * ```
 */
export function lameDuck(options?: LameDuckOptions): Middleware {
  const { path = '/health', seconds = 5 } = checkOptions('LameDuck', OPTION_ERROR, options, {
    path: PATH,
    seconds: check.seconds,
  });
  // Known when the app is built, so a server asked to stop already knows how long to wait.
  wantLameDuck(seconds);
  return (app) =>
    function lameDuckApp(env) {
      if (env.PATH_INFO !== path) return app(env);
      if (env.REQUEST_METHOD !== 'GET' && env.REQUEST_METHOD !== 'HEAD')
        return [405, ['Allow', 'GET, HEAD', ...TEXT], ['method not allowed\n']];
      const since = lameDuckSince();
      if (since === undefined) return [200, [...TEXT], ['OK\n']];
      // Retry-After: when a replacement may answer; a balancer ignores it, a person reading curl does not.
      return [
        503,
        ['Retry-After', String(Math.ceil(seconds)), ...TEXT],
        [`lame duck: stopping or restarting since ${new Date(since).toISOString()}\n`],
      ];
    };
}

/** Names for `enable('LameDuck', ...)`. */
export const plankMiddleware: { LameDuck: typeof lameDuck } = { LameDuck: lameDuck };
