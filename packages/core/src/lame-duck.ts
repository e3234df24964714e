// The process-wide "lame duck" state: a host that was asked to stop or restart keeps serving,
// but its health endpoint fails for a while first, so a load balancer takes it out of rotation
// before it stops accepting (DESIGN §7 "Lifecycle for many hosts").
//
// Why a process-wide flag and not an option of one server: the health endpoint is a
// middleware inside the app, the signal arrives at whatever runs the app (plankup's Runner for
// a single process, a prefork worker told by its master), and the two share nothing but the
// process. The state hangs off `globalThis` under a registered symbol so that two copies of
// @plank/core in one process (the app's and the server's node_modules) still agree.

type State = { seconds: number; since: number | undefined; done: Promise<void> | undefined };

const KEY = Symbol.for('plank.lameDuck');

function state(): State {
  const g = globalThis as { [KEY]?: State };
  g[KEY] ??= { seconds: 0, since: undefined, done: undefined };
  return g[KEY];
}

/**
 * Asks every server in this process to stay in lame duck for `seconds` before it stops
 * accepting (the longest asked wins). The LameDuck middleware calls it when it is built.
 *
 * @example
 * ```ts
 * import { wantLameDuck } from '@plank/core';
 * wantLameDuck(5);
 * ```
 */
export function wantLameDuck(seconds: number): void {
  const s = state();
  s.seconds = Math.max(s.seconds, seconds);
}

/**
 * The seconds this process's servers wait in lame duck before they stop accepting; 0 when
 * nothing asked for it.
 *
 * @example
 * ```ts
 * import { lameDuckSeconds } from '@plank/core';
 * console.log(`lame duck for ${lameDuckSeconds()} s on TERM`);
 * ```
 */
export function lameDuckSeconds(): number {
  return state().seconds;
}

/**
 * Enters lame duck (health checks fail from now on) and resolves after
 * {@link lameDuckSeconds}; servers call it when asked to stop or restart, before they close
 * their listeners. Idempotent: a second call returns the first call's promise.
 *
 * @example
 * ```ts
 * import { enterLameDuck } from '@plank/core';
 * process.once('SIGTERM', () => void enterLameDuck().then(() => server.close()));
 * ```
 */
export function enterLameDuck(): Promise<void> {
  const s = state();
  if (s.done === undefined) {
    s.since = Date.now();
    const ms = s.seconds * 1000;
    s.done = ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
  }
  return s.done;
}

/**
 * When this process entered lame duck (ms since the epoch), or `undefined` while it serves.
 *
 * @example
 * ```ts
 * import { lameDuckSince } from '@plank/core';
 * const healthy = lameDuckSince() === undefined;
 * ```
 */
export function lameDuckSince(): number | undefined {
  return state().since;
}
