import * as net from 'node:net';

// The one Node.js internal prefork relies on lives here, and node-private.test.ts checks it
// against the running Node, so a release that renames it or changes its arguments fails that
// test instead of the master at start-up.

/** A bound (not listening) socket handle, as `net._createServerHandle` returns it. */
export type BoundHandle = {
  fd: number;
  close(): void;
  /** Fills `out`; returns 0 or a negative errno. Pipes (unix sockets) have none. */
  getsockname?(out: { address?: string; family?: string; port?: number }): number;
};

type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
) => BoundHandle | number;

/**
 * `net._createServerHandle`, what node:cluster's primary uses to bind a socket it shares with
 * its workers without listening on it; undefined when this Node lacks it. Returns a handle, or
 * a negative errno. Bind: `(address | null, port, 4 | 6)`, or a unix socket `(path, -1, -1)`;
 * wrap an inherited descriptor: `(null, 0, 4, fd)` (Node asserts that address and port are
 * falsy then).
 */
export function serverHandleFactory(): CreateServerHandle | undefined {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  return typeof create === 'function' ? create : undefined;
}
