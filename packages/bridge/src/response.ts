import { ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Env, Headers, Responder, Writer } from '@plank/core';
import { attachUnframed, forwardDrain } from './node-internals.js';
import { BridgeSocket } from './socket.js';
import { nodeRequest } from './request.js';

/** A `req`/`res` pair for a Node handler, and the promise of the response having been passed on. */
export type NodePair = {
  req: IncomingMessage;
  res: ServerResponse;
  /** Settles once the response has been passed on (or the client went away). */
  done: Promise<void>;
  /** Ends the exchange with an error: `done` rejects, and `req`/`res` are destroyed. */
  fail: (error: unknown) => void;
};

// Set by node for the connection, not the response; Plank's server sets its own.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Makes a `req`/`res` pair whose response goes to `respond`, as a streaming Plank response:
 * the head once node has written it (status and headers exactly as node rendered them, so
 * whatever the handler or its middleware did to `res` is kept), then each body chunk as node
 * writes it, with backpressure from the Plank server back to `res.write()`. `done` settles when
 * the response has ended, or when the client went away (then `req` and `res` are destroyed, so
 * the handler's `close` listeners run).
 */
export function nodePair(env: Env, respond: Responder): NodePair {
  let head: Buffer | undefined = Buffer.alloc(0);
  let writer: Writer | undefined;
  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });

  const gone = () => {
    req.destroy();
    res.destroy();
    settle.resolve();
  };
  const fail = (error: unknown) => {
    settle.reject(error);
    req.destroy();
    res.destroy();
  };
  const sink = (chunk: Buffer, next: (error?: Error | null) => void) => {
    if (writer === undefined) {
      head = Buffer.concat([head as Buffer, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end === -1) return next();
      const [status, headers] = parseHead(head.subarray(0, end).toString('latin1'));
      const rest = head.subarray(end + 4);
      head = undefined;
      writer = respond([status, headers]);
      if (rest.length === 0) return next();
      chunk = rest;
    }
    const w = writer;
    // A writer whose client went away resolves at once and drops the bytes (SPEC.md); the
    // handler is told the way node tells it, by its req and res closing.
    w.write(chunk).then(
      () => {
        next();
        if (w.aborted) gone();
      },
      (error: Error) => {
        next();
        fail(error);
      },
    );
  };

  const socket = new BridgeSocket(env, sink);
  const req = nodeRequest(env, socket);
  const res = new ServerResponse(req);
  attachUnframed(res, socket);
  forwardDrain(res, socket);
  res.once('finish', () => {
    if (writer === undefined) return fail(new Error('the Node handler ended its response without a head'));
    writer.close().then(settle.resolve, gone);
  });
  return { req, res, done, fail };
}

function parseHead(text: string): [number, Headers] {
  const lines = text.split('\r\n');
  const status = Number((lines[0] as string).slice(9, 12));
  const headers: Headers = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    headers.push(name, line.slice(colon + 1).trim());
  }
  return [status, headers];
}
