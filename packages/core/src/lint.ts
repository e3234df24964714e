import { Transform, pipeline, type Duplex } from 'node:stream';
import { chunkLength, isFileBody, isReadable, isWebStream } from './body.js';
import { PlankError, show } from './errors.js';
import { get, getAll } from './headers.js';
import { statusWithoutBody } from './discard.js';
import type {
  App,
  AppResult,
  Body,
  Chunk,
  Env,
  Headers,
  Responder,
  Response,
  StreamingResponse,
  Writer,
} from './types.js';

// The lines starting with `///` are the specification: scripts/gen-spec.mjs copies them,
// in order, into SPEC.md at the repository root. Each rule sits next to the code that
// enforces it, so the two cannot drift apart silently; `pnpm spec:check` fails when
// SPEC.md is stale. Rules that no code can check (conventions for middleware) are here too,
// so SPEC.md stays one complete document.

/// # The Plank specification
///
/// Plank is PSGI (Perl's Web Server Gateway Interface, itself after Python's WSGI and
/// Ruby's Rack) for TypeScript on Node.js. This document is the contract between a
/// *server*, which turns HTTP requests into calls, and an *application*, which answers
/// them; *middleware* sits in between and is both. `lint()` from `@plank/core` checks every
/// rule below that code can check, and throws a `PlankError` with code `PLANK_ERR_LINT`
/// naming the rule and the offending value. Wrap apps and middleware in `lint()` while
/// developing (`plankup -E development` does).
///
/// The words MUST, MUST NOT, SHOULD and MAY are used as in RFC 2119.
///
/// ## Applications
///
/// An application is a function that takes exactly one argument, the *environment*
/// (`env`), and returns a *response*, a *streaming response*, or a promise of either:
///
/// ```ts
/// type App = (env: Env) => Response | StreamingResponse | Promise<Response | StreamingResponse>;
/// ```
///
/// An application MAY throw (or reject); what then reaches the client is the server's or
/// a middleware's business (servers answer `500 Internal Server Error` and write the error to
/// `psgi.errors`).

/**
 * Wraps an app so that every request's env and every response are checked against the
 * Plank specification (SPEC.md), like Plack::Middleware::Lint and Rack::Lint. A violation
 * throws a `PlankError` with code `PLANK_ERR_LINT` whose message names the rule and shows
 * the offending value. Bodies are checked lazily as they are read, never consumed or
 * buffered; a file body stays a file body. Also available by name: `enable('Lint')`.
 *
 * @example
 * ```ts
 * import { lint } from '@plank/core';
 * export default lint((env) => [200, ['Content-Type', 'text/plain'], [`Hello ${env.PATH_INFO}`]]);
 * ```
 */
export function lint(app: App): App {
  if (typeof app !== 'function') fail(`an app must be a function (env) => response, got ${show(app)}`);
  return function lintApp(env: Env) {
    checkEnv(env);
    const result = app(env);
    if (isPromiseLike(result)) return Promise.resolve(result).then((r) => checkResult(r, env));
    return checkResult(result, env);
  };
}

function fail(message: string): never {
  throw new PlankError('PLANK_ERR_LINT', `Lint: ${message}`);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/// ## The environment
///
/// The environment is a plain, mutable object. The application and middleware MAY modify
/// it; a middleware that changes a key for the app below it SHOULD restore it when the
/// response comes back (as `urlMap` does with `SCRIPT_NAME` and `PATH_INFO`).

// RFC 9110 §5.6.2: token = 1*tchar
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Byte strings: one character per byte (RFC 9110 §5.5 field values are octets; node hands
// them over as latin1).
const NOT_BYTES = /[^\x00-\xff]/;
const DIGITS = /^[0-9]+$/;

function checkEnv(env: Env): void {
  /// The env MUST be an object (not an array, not `null`).
  if (typeof env !== 'object' || env === null || Array.isArray(env)) fail(`env must be an object, got ${show(env)}`);
  const e = env as unknown as Record<string, unknown>;

  /// ### CGI variables
  ///
  /// Keys without a dot are CGI-style variables (after RFC 3875 and PEP 3333). Their names
  /// MUST consist of upper-case letters, digits and `_`, starting with a letter, and their
  /// values MUST be strings (a key MAY be present with the value `undefined`, which means
  /// absent). Every other key is an extension and MUST contain a dot (see below).
  ///
  /// **Byte strings.** Every CGI value is a *byte string*: one character per byte, each
  /// character in `\x00`–`\xff` (latin1), exactly as node:http hands header values over.
  /// Servers MUST NOT decode UTF-8 in them; code that needs text decodes on demand
  /// (`Buffer.from(s, 'latin1').toString('utf8')`, which the `Request` helper does), and code
  /// that touches the file system or writes logs converts with `Buffer.from(s, 'latin1')`.
  for (const key of Object.keys(e)) {
    if (key.includes('.')) continue;
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) {
      fail(
        `env key ${show(key)} is neither a CGI variable (A-Z, 0-9, _) nor an extension: extension keys need a dot, like "myapp.${key}"`,
      );
    }
    const value = e[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') fail(`env.${key} must be a string, got ${show(value)}`);
    if (NOT_BYTES.test(value))
      fail(`env.${key} must be a byte string (characters \\x00-\\xff, latin1), got ${show(value)}`);
  }

  /// The following variables MUST be present as strings:
  ///
  /// - `REQUEST_METHOD`: the request method, such as `GET` or `POST`. It MUST be a token
  ///   (RFC 9110 §9.1, §5.6.2) and so is never empty. Methods are case-sensitive.
  /// - `SCRIPT_NAME`: the part of the request path that leads to the application, its
  ///   "mount point". It is `''` when the application is at the root, and otherwise MUST
  ///   start with `/`. It MUST NOT be `/` (the root is `''`, with `PATH_INFO` `/`), and it
  ///   SHOULD NOT end with `/`.
  /// - `PATH_INFO`: the rest of the request path, below `SCRIPT_NAME`, *percent-decoded
  ///   once*, as bytes (so `%C3%A9` becomes the two characters `\xc3\xa9`, and invalid UTF-8
  ///   survives). It is `''` or starts with `/`. `SCRIPT_NAME + PATH_INFO` is the decoded path.
  /// - `REQUEST_URI`: the request target exactly as the client sent it, path and query,
  ///   undecoded. It MUST NOT be empty.
  /// - `QUERY_STRING`: the part of the target after the first `?`, undecoded, without the
  ///   `?`; `''` when there is none (it is never absent).
  /// - `SERVER_NAME` and `SERVER_PORT`: with `SCRIPT_NAME` and `PATH_INFO` they complete the
  ///   URL, but `HTTP_HOST`, when present, SHOULD be preferred for rebuilding it. Neither is
  ///   empty; `SERVER_PORT` is a decimal number (on a socket file, the port from `Host` or
  ///   the scheme's default).
  /// - `SERVER_PROTOCOL`: the protocol of the request, `HTTP/` followed by `major.minor`
  ///   (`HTTP/1.0`, `HTTP/1.1`).
  /// - `REMOTE_ADDR`: the address of the peer (`''` when there is none, as on a socket
  ///   file). A middleware such as ReverseProxy MAY replace it with the client's address.
  for (const key of [
    'REQUEST_METHOD',
    'SCRIPT_NAME',
    'PATH_INFO',
    'REQUEST_URI',
    'QUERY_STRING',
    'SERVER_NAME',
    'SERVER_PORT',
    'SERVER_PROTOCOL',
    'REMOTE_ADDR',
  ]) {
    if (typeof e[key] !== 'string') fail(`env.${key} is required and must be a string, got ${show(e[key])}`);
  }
  if (!TOKEN.test(env.REQUEST_METHOD))
    fail(`env.REQUEST_METHOD must be a token (RFC 9110 §5.6.2), got ${show(env.REQUEST_METHOD)}`);
  if (env.SCRIPT_NAME === '/') fail(`env.SCRIPT_NAME must not be "/": at the root it is "" and PATH_INFO is "/"`);
  if (env.SCRIPT_NAME !== '' && !env.SCRIPT_NAME.startsWith('/'))
    fail(`env.SCRIPT_NAME must be "" or start with "/", got ${show(env.SCRIPT_NAME)}`);
  if (env.PATH_INFO !== '' && !env.PATH_INFO.startsWith('/'))
    fail(`env.PATH_INFO must be "" or start with "/", got ${show(env.PATH_INFO)}`);
  if (env.REQUEST_URI === '') fail('env.REQUEST_URI must not be empty');
  if (env.QUERY_STRING.startsWith('?'))
    fail(`env.QUERY_STRING must not include the "?", got ${show(env.QUERY_STRING)}`);
  if (env.SERVER_NAME === '') fail('env.SERVER_NAME must not be empty');
  if (!DIGITS.test(env.SERVER_PORT)) fail(`env.SERVER_PORT must be a decimal number, got ${show(env.SERVER_PORT)}`);
  if (!/^HTTP\/[0-9]\.[0-9]$/.test(env.SERVER_PROTOCOL))
    fail(`env.SERVER_PROTOCOL must look like "HTTP/1.1", got ${show(env.SERVER_PROTOCOL)}`);

  /// These MAY be present, as strings:
  ///
  /// - `REMOTE_PORT`: the peer's port, a decimal number.
  /// - `CONTENT_TYPE` and `CONTENT_LENGTH`: the request's `Content-Type` and
  ///   `Content-Length` headers. `CONTENT_LENGTH` is a decimal number. The env MUST NOT
  ///   contain `HTTP_CONTENT_TYPE` or `HTTP_CONTENT_LENGTH` (use the names without `HTTP_`).
  /// - `HTTP_*`: one variable per request header, named `HTTP_` plus the field name
  ///   upper-cased with `-` turned into `_` (`User-Agent` → `HTTP_USER_AGENT`). A header that
  ///   was sent several times is joined with `", "` in the order received (RFC 9110 §5.3),
  ///   every one of them, `Cookie` included. Servers build these from the raw header list
  ///   (node's `req.headers` silently drops repeats of some fields).
  if (env.REMOTE_PORT !== undefined && !DIGITS.test(env.REMOTE_PORT))
    fail(`env.REMOTE_PORT must be a decimal number, got ${show(env.REMOTE_PORT)}`);
  if (env.CONTENT_LENGTH !== undefined && !DIGITS.test(env.CONTENT_LENGTH))
    fail(`env.CONTENT_LENGTH must be a decimal number, got ${show(env.CONTENT_LENGTH)}`);
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
    if (e[key] !== undefined) fail(`env.${key} must not exist (got ${show(e[key])}); use ${key.slice(5)}`);
  }

  /// ### The psgi.* variables
  ///
  /// These MUST be present:
  ///
  /// - `psgi.version`: the array `[1, 1]`.
  /// - `psgi.url_scheme`: `'http'` or `'https'`, depending on the request URL.
  /// - `psgi.input`: the request body, a node `Readable` stream of bytes (see *The input stream*).
  /// - `psgi.errors`: the error stream, an object with a `write(string)` method (see *The error stream*).
  /// - `psgi.multithread`: `true` if the app may be invoked concurrently by another thread
  ///   of the same process (worker threads). Note that on Node.js an app is *always*
  ///   invoked for several requests at once when it awaits; this flag is about threads.
  /// - `psgi.multiprocess`: `true` if an equivalent app object may be invoked at the same
  ///   time by another process (prefork servers).
  /// - `psgi.run_once`: `true` if the server expects (but does not guarantee) that the app
  ///   will be invoked only this once during the life of its process (CGI).
  /// - `psgi.nonblocking`: `true`. Node.js servers run an event loop.
  /// - `psgi.streaming`: `true`. Every Plank server supports streaming responses.
  const version = e['psgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || !Number.isInteger(version[1])) {
    fail(`env["psgi.version"] must be [1, 1], got ${show(version)}`);
  }
  if (env['psgi.url_scheme'] !== 'http' && env['psgi.url_scheme'] !== 'https') {
    fail(`env["psgi.url_scheme"] must be "http" or "https", got ${show(env['psgi.url_scheme'])}`);
  }
  /// ### The input stream
  ///
  /// `psgi.input` is a `Readable` (it has `read`, `pipe` and `on`) that yields the request
  /// body as bytes, already de-chunked; it ends when the body does (at once when there is
  /// none). It can be read once: middleware that reads it MUST replace it with a fresh
  /// stream holding the same bytes if the app below may read it too. The app MAY leave
  /// it unread; the server then discards the rest.
  const input = e['psgi.input'];
  if (!isReadable(input) || typeof (input as { read?: unknown }).read !== 'function') {
    fail(`env["psgi.input"] must be a Readable stream, got ${show(input)}`);
  }
  /// ### The error stream
  ///
  /// `psgi.errors` has a `write(s: string)` method. Servers point it at `process.stderr` or
  /// a log; apps MUST NOT close it.
  const errors = e['psgi.errors'];
  if (typeof errors !== 'object' || errors === null || typeof (errors as { write?: unknown }).write !== 'function') {
    fail(`env["psgi.errors"] must be an object with a write(string) method, got ${show(errors)}`);
  }
  for (const key of ['psgi.multithread', 'psgi.multiprocess', 'psgi.run_once']) {
    if (typeof e[key] !== 'boolean') fail(`env["${key}"] is required and must be a boolean, got ${show(e[key])}`);
  }
  for (const key of ['psgi.nonblocking', 'psgi.streaming']) {
    if (e[key] !== true) fail(`env["${key}"] must be true, got ${show(e[key])}`);
  }

  /// ### Extensions
  ///
  /// Servers and middleware MAY store their own data in the env under keys that contain a
  /// dot, prefixed with their name (`plank.reverse_proxy.peer_addr`, `myapp.user`). The
  /// prefixes `psgi.` and `psgix.` are reserved for this specification, and `plank.` for
  /// Plank's own packages. The extensions a server MAY offer:
  ///
  /// - `psgix.logger`: a function `({ level, message }) => void`, `level` one of `debug`,
  ///   `info`, `warn`, `error`, `fatal`.
  /// - `psgix.io`: the raw socket (a node `Duplex`), for protocol upgrades such as
  ///   WebSockets. An app that uses it takes over the connection.
  /// - `psgix.cleanup`: `true` when the server runs `psgix.cleanup.handlers` (an array of
  ///   functions, each called with the env) after the response has been sent, outside the
  ///   request's time; apps push handlers onto the array.
  /// - `psgix.harakiri`: `true` when the server can retire the worker process that
  ///   handled this request; the app sets `psgix.harakiri.commit` to `true` to ask for it
  ///   (the worker exits after the response, and a fresh one takes its place).
  /// - `plank.finish`: an array the server fills before calling the app. The server calls
  ///   each function in it exactly once, with `{ status, bodyBytes, headerBytes, aborted }`,
  ///   when the last byte of the response has been handed to the socket, or when the client
  ///   went away first (`aborted: true`). Register through `onFinish(env, handler)`.
  /// - `plank.worker` and `plank.workers`: what a multi-process server (prefork) says about
  ///   the worker serving the request (`{ pid, slot, generation }`) and all live workers.
  ///
  /// An extension key MAY be present with the value `undefined`, which means the same as
  /// absent: servers create keys that middleware fill in later (such as
  /// `plank.reverse_proxy.peer_addr`) when they build the env, so every env has one shape.
  const logger = e['psgix.logger'];
  if (logger !== undefined && typeof logger !== 'function')
    fail(`env["psgix.logger"] must be a function, got ${show(logger)}`);
  const io = e['psgix.io'];
  if (
    io !== undefined &&
    (typeof io !== 'object' ||
      io === null ||
      typeof (io as Duplex).pipe !== 'function' ||
      typeof (io as Duplex).write !== 'function')
  )
    fail(`env["psgix.io"] must be the connection's socket (a Duplex), got ${show(io)}`);
  if (e['psgix.cleanup'] !== undefined) {
    if (e['psgix.cleanup'] !== true)
      fail(`env["psgix.cleanup"] must be true when present, got ${show(e['psgix.cleanup'])}`);
    if (!Array.isArray(e['psgix.cleanup.handlers']))
      fail(
        `env["psgix.cleanup.handlers"] must be an array when psgix.cleanup is set, got ${show(e['psgix.cleanup.handlers'])}`,
      );
  }
  for (const key of ['psgix.harakiri', 'psgix.harakiri.commit']) {
    if (e[key] !== undefined && typeof e[key] !== 'boolean')
      fail(`env["${key}"] must be a boolean, got ${show(e[key])}`);
  }
  if (e['plank.finish'] !== undefined && !Array.isArray(e['plank.finish']))
    fail(`env["plank.finish"] must be an array, got ${show(e['plank.finish'])}`);
}

/// ## The response
///
/// An application returns either a *response*, an array of exactly three elements
///
/// ```ts
/// type Response = [status: number, headers: Headers, body: Body];
/// ```
///
/// or a *streaming response*, a function (see *Streaming responses*), or a promise of
/// either. The response MUST be an array, not another object, and MUST have exactly
/// three elements.

function checkResult(result: AppResult, env: Env): AppResult {
  if (typeof result === 'function') return lintStreaming(result, env);
  if (!Array.isArray(result))
    fail(
      `the response must be an array [status, headers, body] or a function (a streaming response), got ${show(result)}`,
    );
  if ((result as unknown[]).length !== 3)
    fail(
      `the response must have exactly 3 elements [status, headers, body], got ${(result as unknown[]).length}: ${show(result)}`,
    );
  checkHead(result[0], result[1]);
  result[2] = checkBody(result[2], result[0], result[1], env);
  return result;
}

/// ### The status
///
/// The status MUST be an integer from 100 to 999 (a number, not a string). Servers send the
/// reason phrase that goes with it.
///
/// ### The headers
///
/// ```ts
/// type Headers = string[]; // [name, value, name, value, ...]
/// ```
///
/// The headers are a flat array of strings with an even number of elements: names at even
/// positions, each followed by its value, in the order they are sent, repeats allowed
/// (this is PSGI's shape and node's `rawHeaders`). Names compare case-insensitively; the
/// header helpers in `@plank/core` (`header.get`, `set`, `push`, `remove`) work on this array.
///
/// - A name MUST be a token (RFC 9110 §5.6.2) that starts with a letter and does not end
///   with `-` or `_` (so never `Foo:`, `Foo-`, `0xyz` or `Foo\nBar`).
/// - A name MUST NOT be `Status` (in any case): the status has its own place.
/// - A value MUST be a string of bytes (characters `\x00`–`\xff`) that contains no control
///   characters other than horizontal tab: never CR, LF or NUL (RFC 9110 §5.5). There is no
///   line folding; send a repeated header instead (each `Set-Cookie` is its own pair).
/// - `Content-Length`, when present, MUST appear once (two make the framing ambiguous, and
///   clients refuse such a response: RFC 9112 §6.3) and MUST be a decimal number. When the
///   body is an array, it MUST equal the body's length in bytes (strings counted as UTF-8);
///   other bodies are counted while they are sent. (Not checked for `HEAD` requests.)
/// - A response with status 1xx, 204 or 304 MUST NOT carry `Content-Type` or
///   `Content-Length` (RFC 9110 §8.6, §15.4.5), and its body MUST be empty.
///
/// A server MAY add headers it owns (`Date`, `Connection`, `Transfer-Encoding: chunked` when
/// there is no `Content-Length`); it MUST NOT change the ones the application set.

const HEADER_NAME = /^[A-Za-z][!#$%&'*+.^_`|~0-9A-Za-z-]*$/;
// Field values: VCHAR, obs-text, SP and HTAB (RFC 9110 §5.5); node rejects the rest too.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

function checkHead(status: unknown, headers: unknown): asserts status is number {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
    fail(`the status must be an integer from 100 to 999, got ${show(status)}`);
  }
  if (!Array.isArray(headers)) fail(`the headers must be a flat array [name, value, ...], got ${show(headers)}`);
  if (headers.length % 2 !== 0)
    fail(
      `the headers must have an even number of elements (name, value pairs), got ${headers.length}: ${show(headers)}`,
    );
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i];
    const value: unknown = headers[i + 1];
    if (typeof name !== 'string') fail(`header name #${i / 2} must be a string, got ${show(name)}`);
    // Checked name by name, not with header.has(): the helpers assume every name is a string,
    // which this loop is still establishing, and a failure must name the first bad pair.
    if (name.toLowerCase() === 'status')
      fail(
        `the headers must not contain "Status" (got ${show(name)}: ${show(value)}); the status is the response's first element`,
      );
    if (!HEADER_NAME.test(name) || name.endsWith('-') || name.endsWith('_')) {
      fail(`header name ${show(name)} must be a token that starts with a letter and does not end with "-" or "_"`);
    }
    if (typeof value !== 'string') fail(`the value of header ${show(name)} must be a string, got ${show(value)}`);
    if (BAD_VALUE.test(value))
      fail(
        `the value of header ${show(name)} must not contain CR, LF, NUL, other control characters or characters above \\xff, got ${show(value)}`,
      );
  }
  // Every name is a string from here on, so the header helpers apply.
  const lengths = getAll(headers, 'content-length');
  if (lengths.length > 1) fail(`Content-Length must appear once, got ${lengths.length}: ${show(lengths)}`);
  const length = lengths[0];
  if (length !== undefined && !DIGITS.test(length))
    fail(`Content-Length must be a decimal number, got ${show(length)}`);
  if (statusWithoutBody(status)) {
    for (const name of ['Content-Type', 'Content-Length']) {
      const value = get(headers, name);
      if (value !== undefined) fail(`a ${status} response must not have a ${name} header, got ${show(value)}`);
    }
  }
}

/// ### The body
///
/// ```ts
/// type Chunk = string | Uint8Array;
/// type FileBody = { path: string; start?: number; end?: number };
/// type Body = Chunk[] | Iterable<Chunk> | AsyncIterable<Chunk> | Readable | ReadableStream<Uint8Array> | FileBody;
/// ```
///
/// The body MUST be one of:
///
/// - an **array** of chunks. A chunk is a `string`, sent as UTF-8, or a `Uint8Array`
///   (a `Buffer`), sent as is. This is the common case, and the only one whose length
///   middleware can know without reading it.
/// - a **file body**, `{ path, start?, end? }`: the server sends the file at `path` (or the
///   bytes from `start` to `end`, both *inclusive* offsets, as in `fs.createReadStream` and
///   `Content-Range`) with backpressure and without buffering it. `start` and `end` are
///   non-negative integers and `end >= start - 1` (`end = start - 1` is an empty range).
///   `path` is an ordinary string; code that builds it from `PATH_INFO` decodes the bytes
///   first (`Buffer.from(pathInfo, 'latin1').toString('utf8')`), never passes them as they are.
///   Middleware can learn the size with `stat` without reading the file.
/// - a node **`Readable`** of bytes, or of chunks in object mode. The server destroys it
///   if the client goes away.
/// - a WHATWG **`ReadableStream`** of `Uint8Array`.
/// - any other **iterable or async iterable** of chunks (a generator, for instance). The
///   server calls its iterator's `return()` if the client goes away.
///
/// The body MUST NOT be a bare string or `Uint8Array` (wrap it in an array: `['Hello']`),
/// `undefined`, `null`, a number, or an object that is none of the above. Each chunk MUST
/// be a string or a `Uint8Array`.
///
/// Servers send the chunks in order, and MUST NOT modify an array body (an application MAY
/// return the same array for every request). For a `HEAD` request and for 1xx, 204 and 304
/// responses, servers send no body whatever the application returned, and release it.

function checkBody(body: unknown, status: number, headers: Headers, env: Env): Body {
  if (body === undefined || body === null)
    fail(`the body must be an array of chunks, a file body, a stream or an iterable, got ${show(body)}`);
  if (typeof body === 'string') fail(`the body must not be a bare string; wrap it in an array: [${show(body)}]`);
  if (body instanceof Uint8Array) fail(`the body must not be a bare Uint8Array; wrap it in an array: [bytes]`);
  if (typeof body !== 'object')
    fail(`the body must be an array of chunks, a file body, a stream or an iterable, got ${show(body)}`);
  const expected = env.REQUEST_METHOD === 'HEAD' ? undefined : contentLengthOf(headers);
  const empty = statusWithoutBody(status);
  if (Array.isArray(body)) {
    let total = 0;
    for (let i = 0; i < body.length; i++) {
      const chunk: unknown = body[i];
      checkChunk(chunk, `body chunk #${i}`);
      total += chunkLength(chunk);
    }
    if (empty && total > 0) fail(`a ${status} response must have an empty body, got ${total} bytes`);
    if (expected !== undefined && expected !== total)
      fail(`Content-Length is ${expected} but the array body holds ${total} bytes`);
    return body as Chunk[];
  }
  if (isFileBody(body)) {
    checkFileBody(body as unknown as unknown as Record<string, unknown>);
    if (empty) fail(`a ${status} response must have an empty body, got a file body ${show(body)}`);
    return body;
  }
  const counter = new Counter(status, empty, expected);
  if (isReadable(body)) {
    // A byte-mode Readable can only yield bytes, so it goes out untouched: servers pipe it
    // with backpressure and destroy it on abort. Object mode needs its chunks checked.
    if (!body.readableObjectMode && !empty && expected === undefined) return body;
    const checker = new Transform({
      writableObjectMode: true,
      transform(chunk: unknown, _enc, done) {
        try {
          counter.add(chunk);
          done(null, chunk);
        } catch (err) {
          done(err as Error);
        }
      },
      flush(done) {
        try {
          counter.end();
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    });
    // pipeline, not pipe: destroying the checker (a client gone) must destroy the source too.
    return pipeline(body, checker, () => {});
  }
  if (isWebStream(body)) {
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          counter.add(chunk);
          controller.enqueue(chunk);
        },
        flush() {
          counter.end();
        },
      }),
    );
  }
  if (Symbol.asyncIterator in body || Symbol.iterator in body)
    return checkedIterable(body as AsyncIterable<Chunk> | Iterable<Chunk>, counter);
  fail(
    `the body must be an array of chunks, a file body {path, start?, end?}, a stream or an iterable, got ${show(body)}`,
  );
}

function checkChunk(chunk: unknown, what: string): asserts chunk is Chunk {
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array))
    fail(`${what} must be a string or a Uint8Array, got ${show(chunk)}`);
}

function checkFileBody(body: Record<string, unknown>): void {
  if (body.path === '') fail('a file body needs a non-empty path');
  for (const key of ['start', 'end']) {
    const v = body[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0))
      fail(`file body ${key} must be a non-negative integer (inclusive offset), got ${show(v)}`);
  }
  if (typeof body.start === 'number' && typeof body.end === 'number' && body.end < body.start - 1) {
    fail(`file body end (${body.end}) must be >= start - 1 (${body.start - 1}); offsets are inclusive`);
  }
}

function contentLengthOf(headers: Headers): number | undefined {
  const value = get(headers, 'content-length');
  return value === undefined ? undefined : Number(value);
}

/** Checks chunks as they go by: their type, the empty-body rule and Content-Length. */
class Counter {
  bytes = 0;
  constructor(
    readonly status: number,
    readonly empty: boolean,
    readonly expected: number | undefined,
  ) {}
  add(chunk: unknown): void {
    checkChunk(chunk, 'a body chunk');
    const n = chunkLength(chunk);
    if (this.empty && n > 0) fail(`a ${this.status} response must have an empty body, got a chunk of ${n} bytes`);
    this.bytes += n;
    if (this.expected !== undefined && this.bytes > this.expected)
      fail(`Content-Length is ${this.expected} but the body sent more (${this.bytes} bytes so far)`);
  }
  end(): void {
    if (this.expected !== undefined && this.bytes !== this.expected)
      fail(`Content-Length is ${this.expected} but the body ended after ${this.bytes} bytes`);
  }
}

// A generator is as lazy as the iterable it wraps: nothing is read until the server asks,
// and the server's return() on abort reaches the inner iterator through for-await.
async function* checkedIterable(
  body: AsyncIterable<Chunk> | Iterable<Chunk>,
  counter: Counter,
): AsyncGenerator<Chunk, void, undefined> {
  for await (const chunk of body) {
    counter.add(chunk);
    yield chunk;
  }
  counter.end();
}

/// ## Streaming responses
///
/// ```ts
/// type Writer = { write(chunk: Chunk): Promise<void>; close(): Promise<void>; readonly aborted: boolean };
/// type Responder = (res: [status: number, headers: Headers] | Response) => Writer;
/// type StreamingResponse = (respond: Responder) => void | Promise<void>;
/// ```
///
/// To answer later, or to send the body as it is produced, the application returns a
/// function. The server calls it with a *responder*, a function that the application
/// MUST call exactly once, now or later:
///
/// - with a whole response `[status, headers, body]`, which is sent as it is (this is how
///   an app answers after an asynchronous operation); or
/// - with `[status, headers]` only: the server sends the head and returns a **Writer**.
///
/// The status, headers and body given to the responder follow the rules above. On the
/// Writer:
///
/// - `write(chunk)` takes a string (sent as UTF-8) or a `Uint8Array`, and returns a promise
///   that resolves when the socket accepted the chunk, so a loop that awaits each write
///   paces itself to the client (backpressure). Writing anything else is an error.
/// - `close()` ends the body. The application MUST call it exactly once when it is done,
///   also after an error; calling it again does nothing. Nothing MAY be written after it.
/// - `aborted` becomes `true` once the client has gone away; from then on writes are
///   dropped and resolve at once, so a producer SHOULD check it and stop.
///
/// If the function throws or its promise rejects before the responder was called, the
/// server answers 500. After that, the server can only cut the response short.

function lintStreaming(app: StreamingResponse, env: Env): StreamingResponse {
  return function lintStreamingResponse(respond: Responder) {
    let called = false;
    const checkedRespond: Responder = (res) => {
      if (called) fail('the responder of a streaming response must be called exactly once; it was called again');
      called = true;
      if (!Array.isArray(res))
        fail(`the responder takes [status, headers] or [status, headers, body], got ${show(res)}`);
      if (res.length !== 2 && res.length !== 3)
        fail(
          `the responder takes [status, headers] or [status, headers, body], got ${(res as unknown[]).length} elements: ${show(res)}`,
        );
      checkHead(res[0], res[1]);
      if (res.length === 3) {
        const full = res as Response;
        full[2] = checkBody(full[2], full[0], full[1], env);
        return respond(full);
      }
      const expected = env.REQUEST_METHOD === 'HEAD' ? undefined : contentLengthOf(res[1]);
      return checkedWriter(respond(res), new Counter(res[0], statusWithoutBody(res[0]), expected), env);
    };
    return app(checkedRespond);
  };
}

// A writer dropped without close() leaves the client waiting forever. Only the garbage
// collector can tell it was dropped, so that is reported on psgi.errors (nothing can be
// thrown there), and only for writers that were never closed.
const dropped = new FinalizationRegistry<{ env: Env; inner: Writer; state: { closed: boolean } }>(
  ({ env, inner, state }) => {
    if (!state.closed && !inner.aborted)
      env['psgi.errors'].write(
        'Lint: a streaming Writer was garbage-collected without close(); the response never ended\n',
      );
  },
);

function checkedWriter(inner: Writer, counter: Counter, env: Env): Writer {
  const state = { closed: false };
  const writer: Writer = {
    get aborted() {
      return inner.aborted;
    },
    write(chunk: Chunk) {
      if (state.closed)
        fail(
          `Writer.write() was called after close() with ${show(typeof chunk === 'string' ? chunk : `${chunk?.constructor?.name}`)}`,
        );
      counter.add(chunk);
      return inner.write(chunk);
    },
    close() {
      if (state.closed) return inner.close();
      state.closed = true;
      if (!inner.aborted) counter.end();
      return inner.close();
    },
  };
  dropped.register(writer, { env, inner, state });
  return writer;
}

/// ## Middleware
///
/// A middleware is a function from app to app; a middleware *package* exports a factory
/// that takes options and returns one:
///
/// ```ts
/// type Middleware = (app: App) => App;
/// export function accessLog(options?: AccessLogOptions): Middleware;
/// ```
///
/// - Options are validated when the factory is called, never per request; a bad option
///   throws a `PlankError` with a stable `PLANK_ERR_*` code whose message names the option
///   and shows the value.
/// - Work that can be done once (compiling a format, building a matcher) is done when the
///   middleware is created. Per-request state lives in local variables or in the env
///   (under a dotted key), never on the middleware object.
/// - The factory returns a *named* inner function, so stack traces show the middleware.
/// - A package that can be enabled by name exports `plankMiddleware = { 'Name': factory }`
///   (`enable('AccessLog')` loads `@plank/middleware-access-log`; `ServerStatus::Lite`
///   maps to `@plank/middleware-server-status-lite`).
/// - Middleware post-processes responses only through `responseCb(result, cb)`, which
///   handles plain, promised and streaming responses alike; it never branches on the kind
///   itself. A body filter returned by `cb` sees every chunk and `null` at the end.
/// - A middleware that changes the body MUST remove or fix `Content-Length`
///   (`responseCb` removes it when a filter is returned, unless called with
///   `{ keepContentLength: true }`, which is for a filter that only watches the bytes, or
///   Head's, which keeps the length GET would have). One that drops a body (HEAD,
///   304) MUST release it: destroy a stream, cancel a web stream, `return()` an iterator.
/// - Middleware that needs to act when the response is over (logging, timing) uses
///   `onFinish(env, handler)` rather than wrapping the body, or `watchFinish(env, app,
///   handler)`, which falls back to watching the body where the server does not report
///   the finish.
/// - Middleware tests wrap the stack in `lint()`, so every test also checks this contract.
