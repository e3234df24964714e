import { lookup } from 'node:dns/promises';
import { unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { PlankError } from '@plank/core';
import { createServerHandle, removeStaleSocket } from '@plank/server-node';
import type { ListenSpec } from '@plank/core';

/** A socket the master holds for the whole of its life; workers get `fd` as an inherited descriptor. */
export type Listener = {
  fd: number;
  url: string;
  /** The master's handle on a socket it created (closed at exit); none for inherited descriptors. */
  handle?: { close(): void };
  /** A unix socket path the master created and removes at exit. */
  path?: string;
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
    listeners.push({ fd: Number(fdText), url: addrUrl(addr) });
  }
  if (listeners.length === 0)
    throw new PlankError('PLANK_ERR_SERVER_STARTER', `SERVER_STARTER_PORT: no descriptor in ${JSON.stringify(value)}`);
  return listeners;
}

function addrUrl(addr: string): string {
  if (addr.startsWith('/')) return `unix:${addr}`;
  if (/^\d+$/.test(addr)) return `http://127.0.0.1:${addr}/`;
  return `http://${addr}/`;
}

type ServerHandle = { fd: number; close(): void; getsockname(out: { port?: number }): number };
type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => ServerHandle | number;

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
  if ('fd' in spec) return { fd: spec.fd, url: `fd:${spec.fd}` };
  const create = createServerHandle as CreateServerHandle | undefined;
  if (typeof create !== 'function')
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
  const out: { port?: number } = {};
  handle.getsockname(out);
  if (out.port === undefined || out.port === 0 || (spec.port !== 0 && out.port !== spec.port)) {
    handle.close();
    throw new PlankError('PLANK_ERR_ADDRESS_IN_USE', `cannot listen on ${target}: address already in use`);
  }
  const host = address === null || address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  return { fd: handle.fd, url: `http://${host.includes(':') ? `[${host}]` : host}:${out.port}/`, handle };
}

function listenError(target: string, errno: number): PlankError {
  const name = getSystemErrorName(errno);
  const code = name === 'EADDRINUSE' ? 'PLANK_ERR_ADDRESS_IN_USE' : 'PLANK_ERR_LISTEN';
  return new PlankError(code, `cannot listen on ${target}: ${name}`);
}

export function closeListeners(listeners: Listener[]): void {
  for (const l of listeners) {
    l.handle?.close();
    if (l.path !== undefined) {
      try {
        unlinkSync(l.path);
      } catch {
        // already gone
      }
    }
  }
}
