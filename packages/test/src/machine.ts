import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * The path of `program` on this machine, or undefined when it is not installed. Looks on
 * `PATH` and then in `/usr/sbin` and `/sbin`, where Debian puts nginx and apache2 (not on an
 * ordinary user's `PATH`). For tests that run against a real peer where one is installed.
 *
 * @example
 * ```ts
 * import { which } from '@plank/test';
 * import { describe, it } from 'vitest';
 * const nginx = which('nginx');
 * describe.skipIf(!nginx && !process.env.CI)('behind a real nginx', () => {
 *   it('...', () => {});
 * });
 * ```
 */
export function which(program: string): string | undefined {
  // The name is passed as "$1", never spliced into the script, so it is never run as shell code.
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', program], {
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    encoding: 'utf8',
  });
  const path = r.status === 0 ? r.stdout.trim() : '';
  return path === '' ? undefined : path;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, for a program that must be told its
 * port before it starts (nginx, httpd, `plankup -p`). Another process may take it in
 * between, so a server that can report what it bound should listen on port 0 instead.
 *
 * @example
 * ```ts
 * import { freePort } from '@plank/test';
 * const port = await freePort();
 * // spawn('nginx', ...) with `listen 127.0.0.1:${port};` in its configuration
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** How long {@link until} polls, and how often. */
export type UntilOptions = {
  /** Give up after this many ms. @default 10000 */
  timeout?: number;
  /** Ms between two calls of the check. @default 20 */
  interval?: number;
};

/**
 * Calls `check` until it returns something other than `undefined` or `false` and resolves
 * with that; rejects with "timed out waiting for `what`" after `timeout`. For what another
 * process or the event loop makes true some time later (a log line written, a finish
 * handler run): a bound on waiting, never an assertion on how long something takes.
 *
 * @example
 * ```ts
 * import { until } from '@plank/test';
 * const lines: string[] = [];
 * setTimeout(() => lines.push('GET / 200'), 50);
 * const line = await until(() => lines[0], 'the log line');
 * ```
 */
export async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  options: UntilOptions = {},
): Promise<T> {
  const { timeout = 10_000, interval = 20 } = options;
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
