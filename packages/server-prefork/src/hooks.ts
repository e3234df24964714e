/** What a worker hook is told about the worker it runs in. */
export type WorkerHookInfo = { pid: number; slot: number; generation: number };
export type WorkerHook = (info: WorkerHookInfo) => void | Promise<void>;

type Hooks = { start: WorkerHook[]; exit: WorkerHook[] };

// On globalThis, so an app that resolves its own copy of this package still reaches the
// worker that runs it.
const key = Symbol.for('plank.prefork.hooks');

export function hooks(): Hooks {
  const g = globalThis as { [key]?: Hooks };
  g[key] ??= { start: [], exit: [] };
  return g[key];
}

/**
 * Runs `hook` in each prefork worker after the app has loaded and before the worker accepts
 * its first connection: open per-worker resources (database connections, caches) here, or
 * simply at the app module's top level, which also runs in each worker. A hook that throws
 * fails the worker's start-up (it is respawned with backoff). Outside a prefork worker the
 * hook is never called.
 *
 * @example
 * ```ts
 * import { onWorkerStart } from '@plank/server-prefork';
 * let db;
 * onWorkerStart(async ({ slot }) => { db = await connect({ application_name: `worker-${slot}` }); });
 * ```
 */
export function onWorkerStart(hook: WorkerHook): void {
  hooks().start.push(hook);
}

/**
 * Runs `hook` in a prefork worker after its last request has finished, before it exits
 * (graceful stop, restart, `max-reqs-per-child`, harakiri): close per-worker resources here.
 * It is not run when the worker crashes or is killed after `graceful-timeout`.
 *
 * @example
 * ```ts
 * import { onWorkerExit } from '@plank/server-prefork';
 * onWorkerExit(async () => { await db.end(); });
 * ```
 */
export function onWorkerExit(hook: WorkerHook): void {
  hooks().exit.push(hook);
}
