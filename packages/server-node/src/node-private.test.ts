import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  closeQueuedResponse,
  createServerHandle,
  currentResponse,
  headerBytes,
  responseUnderWay,
  watchBody,
} from './node-private.js';

// Each check runs node:http for real: if a Node release renames or drops a private field
// that node-private.ts relies on, one of these fails.

type Seen = { req: IncomingMessage; res: ServerResponse; socket: Socket; queued: boolean };

/** A raw node:http server that hands each response to `onRequest` instead of answering. */
async function withNodeServer(onRequest: (seen: Seen) => void, fn: (port: number) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => onRequest({ req, res, socket: req.socket, queued: res.socket === null }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn((server.address() as { port: number }).port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function send(port: number, text: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const twoRequests = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n';

describe('the node:http internals server-node relies on', () => {
  it('res._header holds the header block once written, so headerBytes counts it', async () => {
    const counts: number[] = [];
    await withNodeServer(
      ({ res }) => {
        counts.push(headerBytes(res));
        res.writeHead(200, ['Content-Length', '2', 'X-A', 'b']);
        counts.push(headerBytes(res));
        res.end('ok');
      },
      async (port) => {
        const socket = await send(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        const head = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
        socket.destroy();
        expect(counts[0]).toBe(0);
        expect(counts[1]).toBe(head.indexOf('\r\n\r\n') + 4);
      },
    );
  });

  it('socket._httpMessage is set while a response is under way and cleared once it finished', async () => {
    const states: boolean[] = [];
    await withNodeServer(
      ({ res, socket }) => {
        states.push(responseUnderWay(socket));
        res.end('ok', () => setImmediate(() => states.push(responseUnderWay(socket))));
      },
      async (port) => {
        const socket = await send(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        await new Promise((resolve) => socket.once('data', resolve));
        await new Promise((resolve) => setTimeout(resolve, 50));
        socket.destroy();
        expect(states).toEqual([true, false]);
      },
    );
  });

  it('a pipelined response is queued without a socket, and closeQueuedResponse closes it like node closes one', async () => {
    const seen: Seen[] = [];
    await withNodeServer(
      (s) => seen.push(s),
      async (port) => {
        const socket = await send(port, twoRequests);
        await new Promise<void>((resolve) => {
          const poll = (): void => void (seen.length === 2 ? resolve() : setTimeout(poll, 10));
          poll();
        });
        expect(seen.map((s) => s.queued)).toEqual([false, true]);
        const queued = (seen[1] as Seen).res;
        let closes = 0;
        queued.on('close', () => closes++);
        closeQueuedResponse(queued);
        closeQueuedResponse(queued);
        expect([queued.destroyed, queued.closed, closes]).toEqual([true, true, 1]);
        socket.destroy();
      },
    );
  });

  it('socket._httpMessage is the response under way, so currentResponse finds it', async () => {
    const found: boolean[] = [];
    await withNodeServer(
      ({ res, socket }) => {
        found.push(currentResponse(socket) === res);
        res.end('ok');
      },
      async (port) => {
        const socket = await send(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        await new Promise((resolve) => socket.once('data', resolve));
        socket.destroy();
        expect(found).toEqual([true]);
      },
    );
  });

  it("node's parser hands every body chunk to req.push, so watchBody counts a body as it is read", async () => {
    let seen = 0;
    await withNodeServer(
      ({ req, res }) => {
        watchBody(req, (bytes) => {
          seen += bytes;
          return true;
        });
        req.resume();
        res.end('ok');
      },
      async (port) => {
        const socket = await send(port, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
        await new Promise((resolve) => socket.once('data', resolve));
        socket.write('5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n');
        await new Promise<void>((resolve) => {
          const poll = (): void => void (seen === 8 ? resolve() : setTimeout(poll, 10));
          poll();
        });
        socket.destroy();
        expect(seen).toBe(8);
      },
    );
  });

  it('net._createServerHandle binds a socket without listening and reports its port', () => {
    expect(typeof createServerHandle).toBe('function');
    const handle = createServerHandle?.('127.0.0.1', 0, 4);
    if (typeof handle !== 'object') throw new Error(`bind failed: ${handle}`);
    const out: { port?: number } = {};
    handle.getsockname(out);
    expect(handle.fd).toBeGreaterThan(2);
    expect(out.port).toBeGreaterThan(0);
    handle.close();
  });
});
