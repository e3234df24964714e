import { spawn } from 'node:child_process';

// One queue per process, so READY=1 can never overtake an earlier RELOADING=1.
let queue: Promise<void> = Promise.resolve();
let warned = false;

/**
 * Tells the service manager about this process's state, as sd_notify(3) does, when
 * `NOTIFY_SOCKET` is set (systemd `Type=notify`); does nothing otherwise. plankup sends
 * `READY=1` once it listens and `STOPPING=1` on TERM/INT; the prefork master sends
 * `RELOADING=1` on HUP and `READY=1` once the new generation is ready.
 *
 * Node has no AF_UNIX datagram sockets, so the message goes through systemd's own
 * `systemd-notify --no-block --pid=<this pid>`; because that helper is a child process, the
 * unit needs `NotifyAccess=all` (docs/production.md). A missing helper or a failed send is
 * reported once on `errors` and never stops the server. Resolves once the message is sent.
 *
 * @example
 * ```ts
 * import { sdNotify } from '@plank/core';
 * await sdNotify(['READY=1', 'STATUS=listening on :5000']);
 * ```
 */
export function sdNotify(
  fields: string[],
  env: Record<string, string | undefined> = process.env,
  errors: { write(s: string): unknown } = process.stderr,
): Promise<void> {
  if (!env.NOTIFY_SOCKET) return queue;
  const send = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const fail = (why: string): void => {
        if (!warned) errors.write(`plank: cannot notify systemd (${fields.join(' ')}): ${why}\n`);
        warned = true;
        resolve();
      };
      const child = spawn('systemd-notify', ['--no-block', `--pid=${process.pid}`, ...fields], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: env.NOTIFY_SOCKET },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', (err) => fail(err.message));
      child.on('close', (code) => (code === 0 ? resolve() : fail(stderr.trim() || `exit code ${code}`)));
    });
  queue = queue.then(send);
  return queue;
}

/** `MONOTONIC_USEC=` for a `RELOADING=1` message (CLOCK_MONOTONIC, as systemd reads it). */
export function monotonicUsec(): string {
  return `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`;
}
