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

/** A client-usable URL for a listening server: a wildcard listener is reached on loopback. */
export function urlOf(server: Server, spec: ListenSpec): { url: string; port: number | undefined } {
  const address = server.address();
  if (typeof address === 'string') return { url: `http+unix://${encodeURIComponent(address)}/`, port: undefined };
  const port = address?.port;
  const host =
    'host' in spec && spec.host !== undefined && spec.host !== '0.0.0.0' && spec.host !== '::'
      ? spec.host
      : '127.0.0.1';
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`, port };
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
