import { lstatSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, Server as NetServer } from 'node:net';
import { PlankError } from '@plank/core';
import type { ListenSpec } from '@plank/core';

// Listening and draining, shared by every server built on node:http (serve(), the fastify
// and prefork servers), so they all behave the same under plankup.

/** How a spec reads in messages: `127.0.0.1:5000`, `*:5000`, `unix:/tmp/s.sock`, `fd 3`. */
export function describeListen(spec: ListenSpec): string {
  if ('socket' in spec) return `unix:${spec.socket}`;
  if ('fd' in spec) return `fd ${spec.fd}`;
  const host = spec.host === undefined ? '*' : spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return `${host}:${spec.port}`;
}

/** Listens on a TCP address, a unix socket (removing a stale socket file first) or an inherited descriptor. */
export function listenOn(server: Server, spec: ListenSpec, backlog?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const code = err.code === 'EADDRINUSE' ? 'PLANK_ERR_ADDRESS_IN_USE' : 'PLANK_ERR_LISTEN';
      reject(new PlankError(code, `cannot listen on ${describeListen(spec)}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    const done = (): void => {
      server.removeListener('error', onError);
      resolve();
    };
    // For a descriptor node reads the backlog only from the arguments, not from the options.
    if ('fd' in spec) server.listen({ fd: spec.fd }, backlog ?? 511, done);
    else if ('socket' in spec)
      removeStaleSocket(spec.socket).then(() => server.listen({ path: spec.socket, backlog }, done), reject);
    else server.listen({ port: spec.port, host: spec.host, backlog }, done);
  });
}

/** Where a listening server is, for clients and for people. */
export type ServerAddress = {
  /** What a client uses: `http://127.0.0.1:PORT/` (a wildcard listener is reached on loopback), `http+unix://<encoded path>/`. */
  url: string;
  /** The bound TCP port; undefined on a unix socket. */
  port: number | undefined;
  /** What plankup prints: `http://0.0.0.0:PORT/` for a wildcard listener, `unix:/path`, `fd:3 (http://127.0.0.1:PORT/)`. */
  shown: string;
};

/**
 * The one URL helper of the servers on node:http: where `server`, listening on `spec`, is.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { listenOn, urlOf } from '@plank/server-node';
 * const server = createServer((req, res) => res.end('ok'));
 * await listenOn(server, { host: '127.0.0.1', port: 0 });
 * console.log(urlOf(server, { host: '127.0.0.1', port: 0 }).url);
 * ```
 */
export function urlOf(server: Server, spec: ListenSpec): ServerAddress {
  const address = server.address();
  if (typeof address === 'string') {
    const url = `http+unix://${encodeURIComponent(address)}/`;
    return {
      url,
      port: undefined,
      shown: 'socket' in spec ? `unix:${spec.socket}` : `fd:${(spec as { fd: number }).fd} (${url})`,
    };
  }
  const port = address?.port;
  const host =
    'host' in spec && spec.host !== undefined && spec.host !== '0.0.0.0' && spec.host !== '::'
      ? spec.host
      : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  // What the kernel bound, as `ss -ltn` shows it: a wildcard listener says so (`[::]`), never
  // the loopback address a client would use.
  const shown = 'fd' in spec ? `fd:${spec.fd} (${url})` : boundUrl(server);
  return { url, port, shown };
}

/**
 * Where a TCP server is bound, as the kernel has it (what `ss -ltn` shows), for start-up lines:
 * `http://127.0.0.1:5000/`, `http://[::1]:5000/`, and for a listener on every interface
 * `http://[::]:5000/` (node's default when no host is given: IPv6 and IPv4 alike) or
 * `http://0.0.0.0:5000/` (IPv4 only). Not a URL to connect to: see `urlOf` for that.
 *
 * @example
 * ```ts
 * import { boundUrl } from '@plank/server-node';
 * console.error(`listening on ${boundUrl(handle.server)}`);
 * ```
 */
export function boundUrl(server: NetServer): string {
  const address = server.address();
  if (address === null || typeof address === 'string') return `unix:${address ?? '?'}`;
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}/`;
}

/**
 * Stops accepting and resolves when every connection is gone. Only the listener closes:
 * closing an idle keep-alive socket races a request the client may be sending over it right
 * then (measured: 3-4 resets per ten restarts under load with a 100 ms idle sweep, dozens
 * with http.Server#close, 0 with neither). Responses written meanwhile say
 * `Connection: close` (the caller's draining flag), idle sockets end at keepAliveTimeout,
 * and after `timeout` ms every connection left is cut.
 *
 * @example
 * ```ts
 * import { drain } from '@plank/server-node';
 * await drain(server, 30_000);
 * ```
 */
export function drain(server: Server, timeout: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      // Never listened (a failed start): closing still ends what watches it (the inactivity sweep).
      NetServer.prototype.close.call(server);
      resolve();
      return;
    }
    NetServer.prototype.close.call(server, () => {
      clearTimeout(deadline);
      resolve();
    });
    const deadline = setTimeout(() => server.closeAllConnections(), timeout);
    deadline.unref();
  });
}

/** Removes `path` only if it is a socket nobody listens on; anything else is left alone. */
export async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket)
    throw new PlankError('PLANK_ERR_LISTEN', `cannot listen on ${path}: the path exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive)
    throw new PlankError('PLANK_ERR_ADDRESS_IN_USE', `cannot listen on ${path}: another process is listening on it`);
  unlinkSync(path);
}
