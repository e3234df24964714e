import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { App, Env, ErrorStream, FinishInfo } from '@plank/core';
import { buildFcgiEnv } from './env.js';
import {
  decodeParams,
  encodeParams,
  encodeRecords,
  endRequest,
  KEEP_CONN,
  type FcgiRecord,
  ProtocolStatus,
  RecordReader,
  Role,
  Type,
  unknownType,
} from './protocol.js';
import { Exchange } from './respond.js';

export type ConnectionContext = {
  app: App;
  /** The process's error stream: protocol errors, and psgi.errors outside a request. */
  errors: ErrorStream;
  /** The most bytes of params one request may send (431 past it). */
  maxParamsBytes: number;
  /** Answers to FCGI_GET_VALUES. */
  values: { maxConns: number; maxReqs: number };
  multiprocess: boolean;
  harakiri: boolean;
  /** True once the server is stopping: a request that ends closes its connection. */
  draining(): boolean;
  /** Called when a request starts and ends (the server counts what is in flight). */
  onRequest(delta: 1 | -1, env: Env): void;
};

type Current = {
  id: number;
  keepConn: boolean;
  params: Buffer[];
  paramsBytes: number;
  input?: Readable;
  exchange?: Exchange;
  /** Params were refused (too large, malformed): the rest of the request is ignored. */
  refused?: boolean;
};

/**
 * Serves one web server connection: FastCGI records in, one request at a time (this
 * application does not multiplex: FCGI_MPXS_CONNS is 0, and a second BEGIN_REQUEST while one is
 * in progress is answered with FCGI_CANT_MPX_CONN), management records answered with request
 * id 0. A malformed record ends the connection with one line on the error stream.
 */
export function serveConnection(socket: Socket, ctx: ConnectionContext): { busy(): boolean; idleFor(): number } {
  const reader = new RecordReader();
  let current: Current | undefined;

  const problem = (what: string) => {
    ctx.errors.write(`FastCGI: ${what}; closing the connection from ${socket.remoteAddress ?? 'a unix socket'}\n`);
    socket.destroy();
  };

  socket.on('data', (chunk: Buffer) => {
    let records: FcgiRecord[];
    try {
      records = reader.push(chunk);
    } catch (error) {
      return problem((error as Error).message);
    }
    for (const record of records) {
      if (socket.destroyed) return;
      handle(record);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    const req = current;
    current = undefined;
    req?.input?.destroy();
    req?.exchange?.abort();
  });

  let idleSince = performance.now();
  const connection = {
    busy: () => current !== undefined,
    /** ms since the last request ended (or the connection opened); 0 while one is running. */
    idleFor: () => (current === undefined ? performance.now() - idleSince : 0),
  };

  function handle(record: FcgiRecord): void {
    if (record.requestId === 0) return management(record);
    switch (record.type) {
      case Type.BeginRequest:
        return begin(record);
      case Type.Params:
        return params(record);
      case Type.Stdin:
        return stdin(record);
      case Type.AbortRequest:
        if (current?.id === record.requestId) {
          const req = current;
          req.input?.destroy();
          // A running request ends through its exchange (finish handlers told it was aborted).
          if (req.exchange) req.exchange.abort();
          else {
            socket.write(endRequest(req.id, ProtocolStatus.RequestComplete));
            finished();
          }
        }
        return;
      default:
        // FCGI_DATA (the Filter role) and records of requests that are not active are ignored.
        return;
    }
  }

  function management(record: FcgiRecord): void {
    if (record.type !== Type.GetValues) {
      socket.write(unknownType(record.type));
      return;
    }
    const asked = decodeParams(record.content) ?? [];
    const known: Record<string, string> = {
      FCGI_MAX_CONNS: String(ctx.values.maxConns),
      FCGI_MAX_REQS: String(ctx.values.maxReqs),
      FCGI_MPXS_CONNS: '0',
    };
    const answer = asked.filter(([name]) => name in known).map(([name]) => [name, known[name] as string] as const);
    socket.write(encodeRecords(Type.GetValuesResult, 0, encodeParams(answer)));
  }

  function begin(record: FcgiRecord): void {
    if (record.content.length < 8) return problem('a BEGIN_REQUEST record shorter than 8 bytes');
    const role = record.content.readUInt16BE(0);
    const keepConn = ((record.content[2] as number) & KEEP_CONN) !== 0;
    if (current !== undefined) {
      socket.write(endRequest(record.requestId, ProtocolStatus.CantMpxConn));
      return;
    }
    if (role !== Role.Responder) {
      socket.write(endRequest(record.requestId, ProtocolStatus.UnknownRole));
      if (!keepConn) socket.end();
      return;
    }
    current = { id: record.requestId, keepConn, params: [], paramsBytes: 0 };
  }

  function params(record: FcgiRecord): void {
    const req = current;
    if (req === undefined || req.id !== record.requestId || req.input !== undefined || req.refused) return;
    if (record.content.length > 0) {
      req.paramsBytes += record.content.length;
      if (req.paramsBytes > ctx.maxParamsBytes) return refuse(req, 431, 'Request Header Fields Too Large');
      req.params.push(Buffer.from(record.content));
      return;
    }
    const pairs = decodeParams(Buffer.concat(req.params));
    req.params = [];
    if (pairs === undefined) {
      ctx.errors.write('FastCGI: malformed params (a name-value pair runs past its record stream)\n');
      return refuse(req, 400, 'Bad Request');
    }
    start(req, pairs);
  }

  function stdin(record: FcgiRecord): void {
    const req = current;
    if (req === undefined || req.id !== record.requestId || req.refused) return;
    if (req.input === undefined) return problem('STDIN before the end of PARAMS');
    if (record.content.length === 0) {
      req.input.push(null);
      return;
    }
    // Backpressure: a body the app reads slowly holds the web server back, not memory.
    if (!req.input.push(Buffer.from(record.content))) socket.pause();
  }

  function start(req: Current, pairs: Array<[string, string]>): void {
    const input = new Readable({
      read() {
        socket.resume();
      },
    });
    req.input = input;
    const errors: ErrorStream = {
      write: (text: string) => (req.exchange?.stderr(String(text)) ? true : ctx.errors.write(text)),
    };
    const env = buildFcgiEnv(pairs, { input, errors, multiprocess: ctx.multiprocess, harakiri: ctx.harakiri });
    if (env.REQUEST_METHOD === undefined || env.REQUEST_METHOD === '') {
      return refuse(req, 400, 'Bad Request');
    }
    ctx.onRequest(1, env);
    const exchange = new Exchange(socket, req.id, env, (info) => ended(env, info));
    req.exchange = exchange;
    void exchange.run(ctx.app);
  }

  function ended(env: Env, info: FinishInfo): void {
    const req = current;
    for (const handler of env['plank.finish'] ?? []) {
      try {
        handler(info);
      } catch (error) {
        ctx.errors.write(`FastCGI: a finish handler threw: ${(error as Error)?.stack ?? String(error)}\n`);
      }
    }
    for (const cleanup of env['psgix.cleanup.handlers'] ?? []) {
      try {
        cleanup(env);
      } catch (error) {
        ctx.errors.write(`FastCGI: a cleanup handler threw: ${(error as Error)?.stack ?? String(error)}\n`);
      }
    }
    ctx.onRequest(-1, env);
    // Body records the app did not read are ignored from here on (their request is over).
    req?.input?.destroy();
    finished();
  }

  function finished(): void {
    const req = current;
    current = undefined;
    idleSince = performance.now();
    socket.resume();
    if (req === undefined) return;
    if (!req.keepConn || ctx.draining()) socket.end();
  }

  function refuse(req: Current, status: number, reason: string): void {
    req.refused = true;
    const body = Buffer.from(reason);
    const head = `Status: ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`;
    socket.write(encodeRecords(Type.Stdout, req.id, Buffer.concat([Buffer.from(head, 'latin1'), body])));
    socket.write(encodeRecords(Type.Stdout, req.id, Buffer.alloc(0)));
    socket.write(endRequest(req.id, ProtocolStatus.RequestComplete));
    finished();
  }

  return connection;
}
