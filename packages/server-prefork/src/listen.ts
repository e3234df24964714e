import { lookup } from 'node:dns/promises';
import { closeSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { PlankError } from '@plank/core';
import { createServerHandle, removeStaleSocket } from '@plank/server-node';
import type { ListenSpec } from '@plank/core';

/**
 * A socket the master holds until a stop begins; workers get `fd` as an inherited descriptor.
 * `closed` makes the release idempotent: a descriptor number closed twice could be another
 * file's by then.
 */
export type Listener = {
  fd: number;
  url: string;
  /** The master's handle on a socket it created; none for inherited descriptors (closed by number). */
  handle?: { close(): void };
  /** A unix socket path the master created and removes at exit. */
  path?: string;
  closed?: boolean;
};

/**
 * Parses Server::Starter's `SERVER_STARTER_PORT` (`host:port=fd;port=fd;/path=fd`) into
 * listeners on the inherited descriptors.
 */
export function starterListeners(value: string): Listener[] {
  const listeners: Listener[] = [];
  for (const part of value.split(';')) {
    if (part === '') continue;
    const at = part.lastIndexOf('=');
    const addr = part.slice(0, at);
    const fdText = part.slice(at + 1);
    if (at <= 0 || !/^\d+$/.test(fdText)) {
      throw new PlankError(
        'PLANK_ERR_SERVER_STARTER',
        `SERVER_STARTER_PORT: cannot read ${JSON.stringify(part)} in ${JSON.stringify(value)} (expected host:port=fd, port=fd or /path=fd)`,
      );
    }
    // Provisional names: adoptListeners() reads the bound address of the TCP ones.
    const url = addr.startsWith('/') ? `unix:${addr}` : /^\d+$/.test(addr) ? `http://*:${addr}/` : `http://${addr}/`;
    listeners.push({ fd: Number(fdText), url });
  }
  if (listeners.length === 0)
    throw new PlankError('PLANK_ERR_SERVER_STARTER', `SERVER_STARTER_PORT: no descriptor in ${JSON.stringify(value)}`);
  return listeners;
}

/**
 * How the start-up line names a bound TCP address: exactly what the kernel shows, and in words
 * when that is every interface (`::` is dual-stack here: libuv clears IPV6_V6ONLY).
 */
export function boundUrl(address: string, port: number): string {
  if (address === '::') return `http://[::]:${port}/ (every interface, IPv4 and IPv6)`;
  if (address === '0.0.0.0') return `http://0.0.0.0:${port}/ (every IPv4 interface)`;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
}

/**
 * Listeners on inherited descriptors (Server::Starter, systemd): the master wraps each in a
 * handle, without listening or polling, to read the address it is bound to (start_server's
 * `--port=5000` binds every IPv4 interface) and to close its copy when a stop begins. A
 * descriptor that is no TCP socket (a unix socket) keeps the name it came with.
 */
export function adoptListeners(listeners: Listener[]): Listener[] {
  return listeners.map((l) => adopt(l.fd, l.url));
}

function adopt(fd: number, fallback: string): Listener {
  const handle = createServerHandle?.(null, 0, 4, fd);
  if (handle === undefined || typeof handle === 'number') return { fd, url: fallback };
  const out: { address?: string; port?: number } = {};
  const named = typeof handle.getsockname === 'function' && handle.getsockname(out) === 0;
  const url = named && out.address !== undefined && out.port !== undefined ? boundUrl(out.address, out.port) : fallback;
  return { fd, url, handle };
}

/**
 * Binds every spec without listening: the first worker's `listen()` turns the socket into a
 * listening one, and because the master keeps its descriptor the socket stays open (queued
 * connections included) while workers come and go. The master never polls it, so it never
 * takes a connection itself. This is what node:cluster's shared-handle mode does.
 */
export async function openListeners(specs: ListenSpec[]): Promise<Listener[]> {
  const opened: Listener[] = [];
  try {
    for (const spec of specs) opened.push(await open(spec));
  } catch (err) {
    closeListeners(opened);
    throw err;
  }
  return opened;
}

async function open(spec: ListenSpec): Promise<Listener> {
  if ('fd' in spec) return adopt(spec.fd, `fd:${spec.fd}`);
  const create = createServerHandle;
  if (create === undefined)
    throw new PlankError(
      'PLANK_ERR_LISTEN',
      `cannot bind: this Node.js (${process.version}) lacks net._createServerHandle, which node:cluster itself uses`,
    );
  if ('socket' in spec) {
    await removeStaleSocket(spec.socket);
    const handle = create(spec.socket, -1, -1);
    if (typeof handle === 'number') throw listenError(spec.socket, handle);
    return { fd: handle.fd, url: `unix:${spec.socket}`, handle, path: spec.socket };
  }
  let address: string | null = null;
  let family = 4;
  if (spec.host !== undefined) {
    const found = net.isIP(spec.host) ? { address: spec.host, family: net.isIP(spec.host) } : await lookup(spec.host);
    address = found.address;
    family = found.family;
  }
  const target = `${spec.host ?? '*'}:${spec.port}`;
  const handle = create(address, spec.port, family);
  if (typeof handle === 'number') throw listenError(target, handle);
  // libuv defers EADDRINUSE from bind() to listen(); an unbound socket would then listen on
  // a random port, so check the bound port now.
  const out: { address?: string; port?: number } = {};
  handle.getsockname?.(out);
  if (out.port === undefined || out.port === 0 || (spec.port !== 0 && out.port !== spec.port)) {
    handle.close();
    throw new PlankError('PLANK_ERR_ADDRESS_IN_USE', `cannot listen on ${target}: address already in use`);
  }
  return { fd: handle.fd, url: boundUrl(out.address ?? address ?? '::', out.port), handle };
}

function listenError(target: string, errno: number): PlankError {
  const name = getSystemErrorName(errno);
  const code = name === 'EADDRINUSE' ? 'PLANK_ERR_ADDRESS_IN_USE' : 'PLANK_ERR_LISTEN';
  return new PlankError(code, `cannot listen on ${target}: ${name}`);
}

/**
 * Closes the master's copy of each socket (once). Workers hold their own copies, so the socket
 * stays open while any of them still accepts; once the last copy is closed, new connections are
 * refused by the kernel instead of waiting in a queue nobody reads.
 */
export function releaseListeners(listeners: Listener[]): void {
  for (const l of listeners) {
    if (l.closed) continue;
    l.closed = true;
    if (l.handle) l.handle.close();
    else {
      try {
        closeSync(l.fd);
      } catch {
        // not ours any more (EBADF)
      }
    }
  }
}

/** Releases the sockets and removes the unix socket paths the master created. */
export function closeListeners(listeners: Listener[]): void {
  releaseListeners(listeners);
  for (const l of listeners) {
    if (l.path !== undefined) {
      try {
        unlinkSync(l.path);
      } catch {
        // already gone
      }
    }
  }
}
