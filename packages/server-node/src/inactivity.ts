import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { responseUnderWay } from './node-private.js';

type Seen = { read: number; written: number; since: number };

/**
 * Closes connections whose response is under way (the app is working or the body is being
 * written) when no byte moved either way for `timeout` ms: slow readers and stuck apps.
 * Idle keep-alive connections are left to `keepAliveTimeout`, slow requests to
 * `headersTimeout`/`requestTimeout`.
 *
 * node's own `server.timeout` does this with a timer per socket that every request
 * re-arms and every write refreshes; measured here, that was about 3% of a small
 * response's CPU. (It also closes connections that have not sent a whole request yet, and
 * idle ones when `keepAliveTimeout` is 0; this leaves those to the timeouts named above.)
 * A sweep costs nothing per request and is exact to a quarter of `timeout`. Returns the
 * function that stops it. Exported for the other servers built on node:http
 * (server-fastify), which set `server.timeout = 0` and call it as serve() does.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { watchInactivity } from '@plank/server-node';
 * const server = createServer((req, res) => res.end('ok'));
 * server.timeout = 0; // no per-socket timer: the sweep does its job
 * const stopWatching = watchInactivity(server, 60_000);
 * server.once('close', stopWatching);
 * ```
 */
export function watchInactivity(server: Server, timeout: number): () => void {
  if (!(timeout > 0)) return () => {};
  const sockets = new Map<Socket, Seen>();
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { read: 0, written: 0, since: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  });
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [socket, seen] of sockets) {
        const busy = responseUnderWay(socket);
        const read = socket.bytesRead;
        const written = socket.bytesWritten;
        if (!busy || read !== seen.read || written !== seen.written) {
          seen.read = read;
          seen.written = written;
          seen.since = now;
        } else if (now - seen.since >= timeout) {
          sockets.delete(socket);
          socket.destroy();
        }
      }
    },
    Math.max(50, Math.min(Math.floor(timeout / 4), 5_000)),
  );
  sweep.unref();
  return () => clearInterval(sweep);
}
