import type { IncomingMessage, ServerResponse } from 'node:http';
import * as net from 'node:net';
import type { Socket } from 'node:net';

// Every use of a node:http field that Node does not document lives here, and
// node-private.test.ts checks each one against the running Node, so a Node release that
// renames or drops one fails that test instead of silently changing what a server does.

/** The header block node wrote for `res` (`res._header`), in bytes; 0 before it is written. */
export function headerBytes(res: ServerResponse): number {
  const header = (res as unknown as { _header?: string | null })._header;
  return header ? header.length : 0;
}

/**
 * True while a response is under way on `socket` (`socket._httpMessage`): node sets it when
 * a response takes the socket and clears it when that response has finished.
 */
export function responseUnderWay(socket: Socket): boolean {
  return (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;
}

/**
 * Closes a response that never got its socket (one queued behind a pipelined request whose
 * connection went away) the way node closes one that had it: `destroyed` and `closed`
 * (`res._closed`) true, then `'close'`, so `stream.pipeline`, finish handlers and anyone
 * else waiting on it let go.
 */
export function closeQueuedResponse(res: ServerResponse): void {
  if (res.socket !== null || res.closed) return;
  const open = res as unknown as { destroyed: boolean; _closed: boolean };
  open.destroyed = true;
  open._closed = true;
  res.emit('close');
}

/** The response under way on `socket` (`socket._httpMessage`), if any. */
export function currentResponse(socket: Socket): ServerResponse | undefined {
  return ((socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined) as
    | ServerResponse
    | undefined;
}

/**
 * Calls `onBody(bytes)` with each chunk of `req`'s body as node's parser hands it over,
 * before anyone reads it; the chunk is kept back when `onBody` returns false. node's parser
 * gives every body chunk to `req.push()` (its `parserOnBody`), which this wraps for this one
 * request: no public event sees a body nobody reads.
 */
export function watchBody(req: IncomingMessage, onBody: (bytes: number) => boolean): void {
  const push = req.push;
  req.push = function countedPush(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined && !onBody((chunk as Buffer).length)) return false;
    return push.call(this, chunk, encoding);
  };
}

/** A bound (not yet listening) socket handle, as `net._createServerHandle` makes one. */
export type BoundHandle = { fd: number; close(): void; getsockname(out: { port?: number }): number };

/**
 * `net._createServerHandle(address, port, addressType, fd?, flags?)`: binds a socket without
 * listening, as node:cluster's shared handles do; returns the handle or a negative errno.
 * Undefined on a Node without it. The prefork master binds its listeners with it.
 */
export const createServerHandle:
  | ((address: string | null, port: number, addressType: number, fd?: number, flags?: number) => BoundHandle | number)
  | undefined = (net as unknown as { _createServerHandle?: never })._createServerHandle;
