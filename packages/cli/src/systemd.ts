import { PlankError, type ListenSpec } from '@plank/core';

/** sd_listen_fds(3): the first passed descriptor. */
const FIRST_FD = 3;

/**
 * systemd socket activation, read from the environment as sd_listen_fds(3) does and as
 * prefork reads Server::Starter's `SERVER_STARTER_PORT`: when `LISTEN_PID` is this process
 * and `LISTEN_FDS` is N, the listening sockets are descriptors 3 .. 3+N-1 and they replace
 * -l/-p/-S. The variables are removed afterwards (sd_listen_fds' `unset_environment`), so
 * workers and children never take the descriptors for their own. `undefined` when systemd
 * passed nothing to this process.
 *
 * @example
 * ```ts
 * import { socketActivation } from '@plank/cli';
 * const specs = socketActivation(process.env) ?? [{ port: 5000 }];
 * ```
 */
export function socketActivation(
  env: Record<string, string | undefined>,
  pid: number = process.pid,
): ListenSpec[] | undefined {
  const { LISTEN_FDS: count, LISTEN_PID: forPid } = env;
  if (count === undefined) return undefined;
  // Meant for another process (we were started by one that got them): not ours to take.
  if (forPid !== undefined && forPid !== String(pid)) return undefined;
  if (!/^[1-9]\d{0,3}$/.test(count))
    throw new PlankError(
      'PLANK_ERR_CLI_SYSTEMD',
      `LISTEN_FDS: expected the number of passed sockets (1 or more), got ${JSON.stringify(count)}`,
    );
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  // LISTEN_FDNAMES only labels them: plankup serves HTTP on every one, so the names are not needed.
  return Array.from({ length: Number(count) }, (_, i) => ({ fd: FIRST_FD + i }));
}
