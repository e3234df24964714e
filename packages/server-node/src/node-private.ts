import type { ServerResponse } from 'node:http';
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
