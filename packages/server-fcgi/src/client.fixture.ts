import { connect, type Socket } from 'node:net';
import { encodeParams, encodeRecords, type FcgiRecord, RecordReader, Type } from './protocol.js';

// A FastCGI client for tests: what a web server sends, record by record, and what came back.

export type Reply = {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  stderr: string;
  protocolStatus: number | undefined;
  records: FcgiRecord[];
};

export class FcgiClient {
  readonly socket: Socket;
  readonly records: FcgiRecord[] = [];
  readonly closed: Promise<void>;
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    const reader = new RecordReader();
    socket.on('data', (chunk: Buffer) => {
      this.records.push(...reader.push(chunk));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static open(where: { port: number } | { path: string }): Promise<FcgiClient> {
    return new Promise((resolve, reject) => {
      const socket = 'port' in where ? connect(where.port, '127.0.0.1') : connect(where.path);
      socket.once('connect', () => resolve(new FcgiClient(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  begin(id: number, { keepConn = false, role = 1 } = {}): void {
    const body = Buffer.alloc(8);
    body.writeUInt16BE(role, 0);
    body[2] = keepConn ? 1 : 0;
    this.send(encodeRecords(Type.BeginRequest, id, body));
  }

  params(id: number, params: Record<string, string>): void {
    this.send(encodeRecords(Type.Params, id, encodeParams(Object.entries(params))));
    this.send(encodeRecords(Type.Params, id, Buffer.alloc(0)));
  }

  stdin(id: number, body: Buffer | string | undefined): void {
    if (body !== undefined && body.length > 0) this.send(encodeRecords(Type.Stdin, id, Buffer.from(body)));
    this.send(encodeRecords(Type.Stdin, id, Buffer.alloc(0)));
  }

  /** A whole request: BEGIN_REQUEST, PARAMS, STDIN; resolves with the reply once END_REQUEST came. */
  async request(
    params: Record<string, string>,
    { id = 1, body, keepConn = false }: { id?: number; body?: string | Buffer; keepConn?: boolean } = {},
  ): Promise<Reply> {
    const from = this.records.length;
    this.begin(id, { keepConn });
    this.params(id, params);
    this.stdin(id, body);
    await this.until(() => this.records.slice(from).some((r) => r.type === Type.EndRequest && r.requestId === id));
    return parseReply(this.records.slice(from).filter((r) => r.requestId === id));
  }

  /** Waits until `done()` holds or the connection closed. */
  async until(done: () => boolean): Promise<void> {
    while (!done() && !this.socket.destroyed) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function parseReply(records: FcgiRecord[]): Reply {
  const stdout = Buffer.concat(records.filter((r) => r.type === Type.Stdout).map((r) => r.content));
  const stderr = Buffer.concat(records.filter((r) => r.type === Type.Stderr).map((r) => r.content)).toString();
  const end = records.find((r) => r.type === Type.EndRequest);
  const split = stdout.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  let status = 200;
  if (split !== -1) {
    for (const line of stdout.subarray(0, split).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'status') status = Number(value.slice(0, 3));
      else headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
  }
  return {
    status,
    headers,
    body: split === -1 ? stdout : stdout.subarray(split + 4),
    stderr,
    protocolStatus: end?.content[4],
    records,
  };
}
