import type { Duplex, Readable } from 'node:stream';

/**
 * What a server tells the app about one request: CGI-style keys plus `psgi.*` and
 * `psgix.*` extensions, as in PSGI. Every CGI-style string is a *byte string*: one
 * character per byte (latin1), exactly as node:http hands header values over. Decode
 * with `Buffer.from(s, 'latin1').toString('utf8')` (the `Request` helper does it for you).
 *
 * An interface, so a package or an app types the extension keys it sets by declaration
 * merging, once:
 *
 * @example
 * ```ts
 * declare module '@plank/core' {
 *   interface Env {
 *     'myapp.user'?: { id: string; name: string };
 *   }
 * }
 * ```
 */
export interface Env {
  REQUEST_METHOD: string;
  /** The mount point the app lives under; `''` at the root, never `'/'`. */
  SCRIPT_NAME: string;
  /** The path below SCRIPT_NAME, percent-decoded once (bytes, latin1); `''` or starts with `/`. */
  PATH_INFO: string;
  /** The request target exactly as the client sent it (path and query, undecoded). */
  REQUEST_URI: string;
  /** The query string, undecoded, without `?`; `''` when there is none. */
  QUERY_STRING: string;
  SERVER_NAME: string;
  SERVER_PORT: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  SERVER_PROTOCOL: string;
  REMOTE_ADDR: string;
  REMOTE_PORT?: string;
  CONTENT_TYPE?: string;
  CONTENT_LENGTH?: string;
  /** Request headers, upper-cased with `-` → `_`; repeated headers joined with `", "`. */
  [httpHeader: `HTTP_${string}`]: string | undefined;
  'psgi.version': [1, 1];
  'psgi.url_scheme': 'http' | 'https';
  /** The request body as a stream of bytes. */
  'psgi.input': Readable;
  'psgi.errors': ErrorStream;
  'psgi.multithread': boolean;
  'psgi.multiprocess': boolean;
  'psgi.run_once': boolean;
  'psgi.nonblocking': true;
  'psgi.streaming': true;
  'psgix.logger'?: Logger;
  'psgix.cleanup'?: true;
  'psgix.cleanup.handlers'?: Array<(env: Env) => void>;
  /** Set by a server that can retire a worker (prefork); the app sets `.commit` to ask for it. */
  'psgix.harakiri'?: boolean;
  'psgix.harakiri.commit'?: boolean;
  /** The raw socket, for protocol upgrades. */
  'psgix.io'?: Duplex;
  /**
   * Set by Plank servers: callbacks run once when the response has left the process
   * (the last byte was handed to the socket) or the client went away first. Register
   * through {@link onFinish}, which also works when a server does not provide the list.
   */
  'plank.finish'?: FinishHandler[];
  /** Extensions need a dot in their name, as in PSGI. */
  [extension: `${string}.${string}`]: unknown;
}

export type ErrorStream = { write(s: string): unknown };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type Logger = (entry: { level: LogLevel; message: string }) => void;

/** What the server reports once a response is over. */
export type FinishInfo = {
  /** The status line's code as sent. */
  status: number;
  /** Body bytes handed to the socket (not counting headers or chunked framing). */
  bodyBytes: number;
  /** Bytes of the status line and headers as sent, when the server knows them (else 0). */
  headerBytes: number;
  /** True when the client closed the connection before the response was complete. */
  aborted: boolean;
};
export type FinishHandler = (info: FinishInfo) => void;

/**
 * Response headers as a flat list: `[name, value, name, value, ...]`, PSGI's shape and
 * node's `rawHeaders`. Names are case-insensitive; order and repeats are kept.
 */
export type Headers = string[];

/** A string chunk is sent as UTF-8; bytes go out as they are. */
export type Chunk = string | Uint8Array;

/**
 * A file to send, so servers can stream it with backpressure and middleware can learn
 * its size without reading it. `start` and `end` are inclusive byte offsets, as in
 * `fs.createReadStream` and `Content-Range`.
 */
export type FileBody = { path: string; start?: number; end?: number };

export type Body = Chunk[] | Iterable<Chunk> | AsyncIterable<Chunk> | Readable | ReadableStream<Uint8Array> | FileBody;

export type Response = [status: number, headers: Headers, body: Body];

/** Given to a streaming app once it has sent status and headers. */
export type Writer = {
  /** Resolves when the chunk was accepted by the socket (the peer drained), so loops pace themselves. */
  write(chunk: Chunk): Promise<void>;
  /** Ends the body; resolves when the response is finished. */
  close(): Promise<void>;
  /** True once the client went away; further writes are dropped and resolve at once. */
  readonly aborted: boolean;
};

/**
 * Called by a streaming app, once: with `[status, headers]` it returns the Writer for the
 * body; with a whole `[status, headers, body]` the response is sent as is and the returned
 * Writer is already closed.
 */
export type Responder = (res: [status: number, headers: Headers] | Response) => Writer;

/** A delayed or streaming response: the server calls it with a responder. */
export type StreamingResponse = (respond: Responder) => void | Promise<void>;

export type AppResult = Response | StreamingResponse;
export type App = (env: Env) => AppResult | Promise<AppResult>;
export type Middleware = (app: App) => App;

/** A middleware factory as packages export it: options in, Middleware out. */
export type MiddlewareFactory = (options?: any) => Middleware;
