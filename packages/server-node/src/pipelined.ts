import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { closeQueuedResponse } from './node-private.js';

// node:http answers pipelined requests in order: the response to a request that arrives
// while an earlier one is still being answered waits in a queue (with no socket) until that
// one has finished. If the connection closes first, node drops the queue without a word: a
// queued response never emits 'close'. Whatever waited on it waited forever: a file body's
// descriptor and read buffer, a stream, a generator, the finish handlers. Measured on main:
// 200 pipelined GETs of a 1 MiB file, then a disconnect, left 196 descriptors and 56 MB open
// for good; a client repeating that exhausts the process's descriptors.
//
// So the handler notes each response that starts out queued, and when the connection
// closes, the ones still waiting are closed as node closes the one it was sending. And a
// queued response starts its body only once it has the socket (`whenSending`): until its
// turn comes it holds no descriptor and no buffer, however many requests a client
// pipelines in one packet.

const queues = new WeakMap<Socket, Set<ServerResponse>>();

/** Called for a response that starts without a socket (queued behind an earlier response on `socket`). */
export function noteQueued(socket: Socket, res: ServerResponse): void {
  let queue = queues.get(socket);
  if (queue === undefined) {
    const waiting = new Set<ServerResponse>();
    queues.set(socket, waiting);
    socket.once('close', () => {
      for (const queued of waiting) closeQueuedResponse(queued);
      waiting.clear();
    });
    queue = waiting;
  }
  queue.add(res);
  const mine = queue;
  res.once('socket', () => mine.delete(res));
}

/**
 * Runs `start` once `res` has its socket (at once when it has), or `cancel` when the
 * response is closed before that (or already was).
 */
export function whenSending(res: ServerResponse, start: () => void, cancel: () => void): void {
  if (res.destroyed) return cancel();
  if (res.socket !== null) return start();
  const onSocket = (): void => {
    res.removeListener('close', onClose);
    start();
  };
  const onClose = (): void => {
    res.removeListener('socket', onSocket);
    cancel();
  };
  res.once('socket', onSocket);
  res.once('close', onClose);
}
