import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

// The only places this package relies on fields of node:http that its documentation does not
// list. `node-internals.test.ts` checks each one's effect, so a Node release that changes them
// fails there, not silently in a bridged app.

type OutgoingInternals = {
  useChunkedEncodingByDefault: boolean;
  shouldKeepAlive: boolean;
  assignSocket(socket: Duplex): void;
};

/**
 * Attaches `socket` to `res` as node's server would, and asks for an unframed body: no chunked
 * encoding, the end of the body being the end of the response. The bridge reads the bytes node
 * writes, so framing would only have to be undone.
 */
export function attachUnframed(res: ServerResponse, socket: Duplex): void {
  const out = res as unknown as OutgoingInternals;
  out.useChunkedEncodingByDefault = false;
  out.shouldKeepAlive = false;
  out.assignSocket(socket);
}

/** Marks a request built by hand as read to the end when it has no body, as node's parser does. */
export function markComplete(req: IncomingMessage): void {
  (req as unknown as { complete: boolean }).complete = true;
}

/**
 * Forwards the socket's `'drain'` to `res`, as node's HTTP server does for its own sockets
 * (`res.write()` returning false waits for it). node marks the response with a private
 * `kNeedDrain` symbol that only its server clears; without clearing it `res.writableNeedDrain`
 * would stay true after the drain.
 */
export function forwardDrain(res: ServerResponse, socket: Duplex): void {
  const needDrain = kNeedDrain(res);
  socket.on('drain', () => {
    const marked = res as unknown as Record<symbol, boolean>;
    if (needDrain === undefined ? !res.writableNeedDrain : !marked[needDrain]) return;
    if (needDrain !== undefined) marked[needDrain] = false;
    res.emit('drain');
  });
}

/** node's private "a write returned false" mark on an OutgoingMessage, if this Node has it. */
export function kNeedDrain(res: ServerResponse): symbol | undefined {
  return Object.getOwnPropertySymbols(res).find((s) => s.description === 'kNeedDrain');
}
