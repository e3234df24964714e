import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import {
  type App,
  type AppResult,
  type Body,
  bodyChunks,
  type Chunk,
  discardBody,
  type Env,
  type FinishInfo,
  type Headers,
  type Response,
  statusWithoutBody,
  type Writer,
} from '@plank/core';
import { encodeRecords, endRequest, ProtocolStatus, recordParts, Type } from './protocol.js';

// RFC 9110 §5.1 and §5.5: a header line that could split the response never leaves.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
// A record of a version that does not exist: nginx and Apache take it as a broken upstream and
// drop the client connection; a plain close makes nginx end the chunked body cleanly (seen with
// nginx 1.22), which would make a truncated response look complete.
const BROKEN = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]);
const SERVER_ERROR =
  'Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n\r\n';

/** One request's way out: STDOUT records on its connection, then END_REQUEST. */
export class Exchange {
  readonly #socket: Socket;
  readonly #id: number;
  readonly #env: Env;
  readonly #head: boolean;
  #headSent = false;
  #ended = false;
  #aborted = false;
  #bodyBytes = 0;
  #headerBytes = 0;
  #status = 0;
  #corked = false;
  #onEnd: (info: FinishInfo) => void;

  constructor(socket: Socket, id: number, env: Env, onEnd: (info: FinishInfo) => void) {
    this.#socket = socket;
    this.#id = id;
    this.#env = env;
    this.#head = env.REQUEST_METHOD === 'HEAD';
    this.#onEnd = onEnd;
  }

  get aborted(): boolean {
    return this.#aborted;
  }
  get ended(): boolean {
    return this.#ended;
  }

  /** The web server aborted the request or the connection went away: stop writing. */
  abort(): void {
    if (this.#ended) return;
    this.#aborted = true;
    this.#end();
  }

  /** Runs the app and sends what it answers; never rejects. */
  async run(app: App): Promise<void> {
    let result: AppResult;
    try {
      result = await app(this.#env);
    } catch (error) {
      return this.#fail(error);
    }
    try {
      if (typeof result === 'function') {
        await result((res) => this.#respond(res));
        if (!this.#headSent && !this.#ended) throw new Error('the streaming app returned without responding');
      } else await this.#send(result);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Sends `text` on the request's error stream (FCGI_STDERR), while the request is open. */
  stderr(text: string): boolean {
    if (this.#ended || this.#socket.destroyed) return false;
    this.#socket.write(encodeRecords(Type.Stderr, this.#id, Buffer.from(text)));
    return true;
  }

  #respond(res: [number, Headers] | Response): Writer {
    if (res.length === 3) {
      const done = this.#send(res as Response);
      return { write: () => done, close: () => done, aborted: this.#aborted };
    }
    this.#writeHead(res[0], res[1]);
    const exchange = this;
    return {
      write: (chunk) => exchange.#writeBody(chunk),
      close: async () => exchange.#finishBody(),
      get aborted() {
        return exchange.#aborted;
      },
    };
  }

  async #send([status, headers, body]: Response): Promise<void> {
    try {
      this.#writeHead(status, withLength(status, headers, body));
    } catch (error) {
      discardBody(body);
      throw error;
    }
    if (this.#head || statusWithoutBody(status)) discardBody(body);
    else if (Array.isArray(body)) for (const chunk of body) await this.#writeBody(chunk as Chunk);
    else {
      for await (const chunk of bodyChunks(body as Body)) {
        // Leaving the loop closes the body (its file, its stream) as soon as nobody listens.
        if (this.#aborted) break;
        await this.#writeBody(chunk);
      }
    }
    this.#finishBody();
  }

  #writeHead(status: number, headers: Headers): void {
    if (this.#headSent) throw new Error('the response head was already sent');
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new Error(`invalid status ${status}`);
    let head = `Status: ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      if (!TOKEN.test(name) || typeof value !== 'string' || BAD_VALUE.test(value)) {
        throw new Error(`invalid response header ${JSON.stringify(name)}`);
      }
      head += `${name}: ${value}\r\n`;
    }
    head += '\r\n';
    this.#headSent = true;
    this.#status = status;
    const bytes = Buffer.from(head, 'latin1');
    this.#headerBytes = bytes.length;
    this.#out(encodeRecords(Type.Stdout, this.#id, bytes));
  }

  async #writeBody(chunk: Chunk): Promise<void> {
    if (this.#aborted || this.#ended || this.#head || statusWithoutBody(this.#status)) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes.length === 0) return;
    this.#bodyBytes += bytes.length;
    let flowing = true;
    for (const part of recordParts(Type.Stdout, this.#id, bytes)) flowing = this.#out(part);
    if (!flowing) await this.#drained();
  }

  #finishBody(): void {
    if (this.#ended) return;
    this.#out(encodeRecords(Type.Stdout, this.#id, Buffer.alloc(0)));
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    if (!this.#aborted) this.#out(endRequest(this.#id, ProtocolStatus.RequestComplete));
    else if (!this.#socket.destroyed) this.#socket.write(endRequest(this.#id, ProtocolStatus.RequestComplete));
    this.#onEnd({
      status: this.#status,
      bodyBytes: this.#bodyBytes,
      headerBytes: this.#headerBytes,
      aborted: this.#aborted,
    });
  }

  #fail(error: unknown): void {
    if (this.#ended) return;
    logError(this.#env, error);
    if (this.#headSent) {
      // Too late for a 500. Without END_REQUEST the web server knows the response is broken
      // and drops its client connection instead of ending the body cleanly, as server-node
      // does: a truncated download must not look complete.
      this.#aborted = true;
      if (!this.#socket.destroyed) this.#socket.end(BROKEN);
      this.#end();
      return;
    }
    this.#headSent = true;
    this.#status = 500;
    this.#out(encodeRecords(Type.Stdout, this.#id, Buffer.from(SERVER_ERROR, 'latin1')));
    if (!this.#head) this.#out(encodeRecords(Type.Stdout, this.#id, Buffer.from('Internal Server Error')));
    this.#finishBody();
  }

  #out(bytes: Uint8Array): boolean {
    if (this.#socket.destroyed) {
      this.#aborted = true;
      return true;
    }
    // The records of one tick (head, body, end) leave in one segment: written one by one, a
    // small response waited out Nagle and the web server's delayed ACK (about 40 ms each).
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    return this.#socket.write(bytes);
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }
}

// As server-node logs an app's failure: the stack on psgi.errors, or stderr if that fails too.
function logError(env: Env, error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : `Error: ${String(error)}`;
  try {
    env['psgi.errors'].write(`${text}\n`);
  } catch {
    process.stderr.write(`${text}\n`);
  }
}

// An in-memory body gets a Content-Length, as server-node gives it, so the web server need
// not chunk it.
function withLength(status: number, headers: Headers, body: Body): Headers {
  if (!Array.isArray(body) || statusWithoutBody(status)) return headers;
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    if (name === 'content-length' || name === 'transfer-encoding') return headers;
  }
  let length = 0;
  for (const chunk of body as Chunk[]) length += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  return [...headers, 'Content-Length', String(length)];
}
