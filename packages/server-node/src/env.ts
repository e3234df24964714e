import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { Env, ErrorStream } from '@plank/core';

/**
 * The parts of a request `buildEnv` reads: what node's `IncomingMessage` has, so a real
 * request and a synthetic one (in-process tests) go through the same code.
 */
export type RequestLike = {
  method?: string | undefined;
  url?: string | undefined;
  httpVersion: string;
  /** Flat `[name, value, ...]` exactly as received (node's `req.rawHeaders`). */
  rawHeaders: string[];
  socket: {
    remoteAddress?: string | undefined;
    remotePort?: number | undefined;
    localAddress?: string | undefined;
    localPort?: number | undefined;
    encrypted?: boolean | undefined;
  };
};

export type BuildEnvOptions = {
  /** `psgi.errors`. @default process.stderr */
  errors?: ErrorStream;
  /** `psgi.multiprocess`: true when other processes serve the same app (prefork). @default false */
  multiprocess?: boolean;
  /** `psgi.input` when `req` itself is not a Readable. @default req */
  input?: Readable;
  /** `psgix.harakiri`: true when the server can retire this process after a response (prefork). */
  harakiri?: boolean;
  /** `plank.worker` and `plank.workers`: what a multi-process server says about this worker and its siblings. */
  worker?: unknown;
  workers?: readonly unknown[];
};

// Only for synthetic requests that are not streams themselves; a stream can be read once,
// so each request gets its own.
function emptyInput(): Readable {
  return Readable.from([]);
}

// One shared value: the spec fixes it, and a fresh array per request is garbage for nothing.
const VERSION: [1, 1] = Object.freeze([1, 1]) as unknown as [1, 1];

/**
 * Builds the PSGI-style env for one request: CGI keys as byte strings, `PATH_INFO`
 * percent-decoded once, `HTTP_*` from the raw headers (every repeat joined with `", "`),
 * and the `psgi.*`/`psgix.*` keys. `psgi.input` is the request stream itself.
 *
 * @example
 * ```ts
 * import { buildEnv } from '@plank/server-node';
 * import { createServer } from 'node:http';
 * createServer((req, res) => res.end(buildEnv(req).PATH_INFO)).listen(5000);
 * ```
 */
export function buildEnv(req: RequestLike, options?: BuildEnvOptions): Env {
  const url = req.url ?? '/';
  const socket = req.socket;
  const peer = peerOf(socket);
  const env: Env = {
    REQUEST_METHOD: req.method ?? 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '',
    REQUEST_URI: url,
    QUERY_STRING: '',
    SERVER_NAME: '',
    SERVER_PORT: '',
    SERVER_PROTOCOL: req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`,
    REMOTE_ADDR: peer.addr,
    REMOTE_PORT: peer.port,
    'psgi.version': VERSION,
    'psgi.url_scheme': peer.scheme,
    'psgi.input':
      options?.input ??
      (typeof (req as unknown as Readable).pipe === 'function' ? (req as unknown as Readable) : emptyInput()),
    // process.stderr is a getter that costs more than the rest of the env together;
    // servers pass `errors` so the hot path never reads it.
    'psgi.errors': options?.errors ?? process.stderr,
    'psgi.multithread': false,
    'psgi.multiprocess': options?.multiprocess ?? false,
    'psgi.run_once': false,
    'psgi.nonblocking': true,
    'psgi.streaming': true,
    // A structural request (in-process tests, adapters) has no real socket to hand over.
    'psgix.io': typeof (socket as Duplex).pipe === 'function' ? (socket as Duplex) : undefined,
    'psgix.cleanup': true,
    'psgix.cleanup.handlers': [],
    'plank.finish': [],
    // Part of the literal, even when undefined: keys added later would cost a shape change
    // per request (measured: 6% of a prefork worker's hello throughput).
    'psgix.harakiri': options?.harakiri,
    'plank.worker': options?.worker,
    'plank.workers': options?.workers,
    // Set by ReverseProxy when it rewrites REMOTE_ADDR, for the same reason: with the keys
    // added afterwards it ran at 0.937-0.956x of hello with X-Forwarded-For, with them here
    // at 0.950-0.986x (test/bench/RESULTS.md).
    'plank.reverse_proxy.peer_addr': undefined,
    'plank.reverse_proxy.peer_port': undefined,
  };

  let target = url;
  let authority: string | undefined;
  // Absolute form (RFC 9112 §3.2.2): the target's authority wins over any Host header.
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://');
    if (scheme > 0) {
      const pathStart = target.indexOf('/', scheme + 3);
      const qStart = target.indexOf('?', scheme + 3);
      const end =
        pathStart === -1
          ? qStart === -1
            ? target.length
            : qStart
          : qStart !== -1 && qStart < pathStart
            ? qStart
            : pathStart;
      authority = target.slice(scheme + 3, end);
      const at = authority.lastIndexOf('@');
      if (at !== -1) authority = authority.slice(at + 1);
      target =
        end === target.length ? '/' : target.charCodeAt(end) === 63 ? `/${target.slice(end)}` : target.slice(end);
    }
  }
  const q = target.indexOf('?');
  let path = q === -1 ? target : target.slice(0, q);
  if (q !== -1) env.QUERY_STRING = target.slice(q + 1);
  // A fragment never reaches a server from a real client, but a raw one may send it.
  const hash = path.indexOf('#');
  if (hash !== -1) path = path.slice(0, hash);
  env.PATH_INFO = path.indexOf('%') === -1 ? path : percentDecode(path);

  const raw = req.rawHeaders;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const key = cgiName(name);
    if (key === 'HTTP_CONTENT_TYPE') {
      env.CONTENT_TYPE = env.CONTENT_TYPE === undefined ? value : `${env.CONTENT_TYPE}, ${value}`;
      continue;
    }
    if (key === 'HTTP_CONTENT_LENGTH') {
      env.CONTENT_LENGTH = value;
      continue;
    }
    if (key === 'HTTP_HOST' && host === undefined) host = value;
    const prev = env[key as `HTTP_${string}`];
    env[key as `HTTP_${string}`] = prev === undefined ? value : `${prev}, ${value}`;
  }

  const hostport = authority ?? host;
  if (hostport) {
    splitHost(env, hostport, socket.localPort);
  } else {
    // A unix socket has neither; the spec wants both non-empty, and '0' for a socket file.
    env.SERVER_NAME = socket.localAddress || 'localhost';
    env.SERVER_PORT = socket.localPort === undefined ? '0' : String(socket.localPort);
  }
  return env;
}

type Peer = { addr: string; port: string | undefined; scheme: 'http' | 'https' };
const kPeer = Symbol('plank.peer');

/**
 * The peer's address, port and scheme, worked out once per connection: node's
 * `remoteAddress` is a getter, and the strings are the same for every request on a
 * keep-alive connection.
 */
function peerOf(socket: RequestLike['socket']): Peer {
  const cached = (socket as { [kPeer]?: Peer })[kPeer];
  if (cached !== undefined) return cached;
  let addr = socket.remoteAddress ?? '';
  // IPv4 clients of a dual-stack listener show up as IPv4-mapped IPv6 addresses.
  if (addr.length > 7 && addr.startsWith('::ffff:') && addr.indexOf('.') !== -1) addr = addr.slice(7);
  const peer: Peer = {
    addr,
    port: socket.remotePort === undefined ? undefined : String(socket.remotePort),
    scheme: socket.encrypted ? 'https' : 'http',
  };
  // Not known yet on a socket that is still connecting; compute again next time.
  if (socket.remoteAddress !== undefined) (socket as { [kPeer]?: Peer })[kPeer] = peer;
  return peer;
}

// Header names are tokens (RFC 9110 §5.6.2), so a char-code scan covers every case
// without a regex: upper-case letters, `-` becomes `_`.
const nameCache = new Map<string, string>();
function cgiName(name: string): string {
  let key = nameCache.get(name);
  if (key !== undefined) return key;
  // Interned (a property key of a literal is): env[key] with a string V8 has not interned
  // looks it up in the string table on every request.
  key = Object.keys({ [`HTTP_${name.toUpperCase().replaceAll('-', '_')}`]: 0 })[0] as string;
  // Bounded: clients choose names, and an unbounded cache would be a memory leak.
  if (nameCache.size < 1000) nameCache.set(name, key);
  return key;
}

// Every request of a site carries the same Host; remembering the last split skips the work.
let lastHost = '';
let lastName = '';
let lastPort = '';

function splitHost(env: Env, hostport: string, localPort: number | undefined): void {
  if (hostport === lastHost && env['psgi.url_scheme'] === 'http') {
    env.SERVER_NAME = lastName;
    env.SERVER_PORT = lastPort;
    return;
  }
  let colon = -1;
  if (hostport.charCodeAt(0) === 91 /* [ */) {
    const close = hostport.indexOf(']');
    if (close !== -1 && hostport.charCodeAt(close + 1) === 58) colon = close + 1;
  } else {
    colon = hostport.lastIndexOf(':');
  }
  if (colon === -1) {
    env.SERVER_NAME = hostport;
    // No port in Host means the scheme's default, not the socket's (RFC 9110 §7.2).
    env.SERVER_PORT = env['psgi.url_scheme'] === 'https' ? '443' : '80';
  } else {
    env.SERVER_NAME = hostport.slice(0, colon);
    const port = hostport.slice(colon + 1);
    if (port === '') {
      env.SERVER_PORT = localPort === undefined ? '0' : String(localPort);
      return;
    }
    env.SERVER_PORT = port;
    if (env['psgi.url_scheme'] === 'http') {
      lastHost = hostport;
      lastName = env.SERVER_NAME;
      lastPort = port;
    }
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * Percent-decodes `s` once into a byte string (one char per byte, latin1), as CGI wants
 * PATH_INFO (RFC 3875 §4.1.5). Invalid escapes stay as they are; `%2F` becomes `/`.
 */
export function percentDecode(s: string): string {
  let out = '';
  let last = 0;
  for (let i = s.indexOf('%'); i !== -1 && i + 2 < s.length; i = s.indexOf('%', i)) {
    const hi = hexValue(s.charCodeAt(i + 1));
    const lo = hi === -1 ? -1 : hexValue(s.charCodeAt(i + 2));
    if (lo === -1) {
      i += 1;
      continue;
    }
    out += s.slice(last, i) + String.fromCharCode((hi << 4) | lo);
    i += 3;
    last = i;
  }
  return last === 0 ? s : out + s.slice(last);
}
