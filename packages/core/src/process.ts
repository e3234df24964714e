/**
 * Whether a process with this pid exists (one of another user counts: `kill(pid, 0)` then
 * fails with EPERM, not ESRCH). The one copy: the scoreboard skips dead workers' slots with it,
 * and AccessLog takes over the rotation of a log whose owner died.
 *
 * @example
 * ```ts
 * import { isAlive } from '@plank/core';
 * if (!isAlive(pid)) console.log(`${pid} is gone`);
 * ```
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
