import { threadId } from 'node:worker_threads';
import { PlankError, header, isFileBody, type Body, type Env, type Headers } from '@plank/core';
import { escapeLogItem, orDash } from './escape.js';
import { clfTimeFormatter, strftime } from './strftime.js';

/** Everything a directive may print, gathered once the response is over. */
export type LogRecord = {
  env: Env;
  /** Status as sent (the server's word when it has one). */
  status: number;
  /** Response headers as the app returned them; undefined when the app failed before answering. */
  headers: Headers | undefined;
  /** The response body as returned (for `%f`); undefined for streaming responses. */
  body: Body | undefined;
  /** Body bytes handed to the socket. */
  bodyBytes: number;
  /** Status line and header bytes as sent; 0 when unknown. */
  headerBytes: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
  /** Epoch milliseconds (with a fraction) when the middleware was entered. */
  start: number;
  /** Epoch milliseconds (with a fraction) when the last byte left. */
  end: number;
};

/** A custom `%x` directive (Plack's char_handlers): its result is escaped; empty or missing logs `-`. */
export type CharHandler = (env: Env, record: LogRecord) => unknown;
/** A custom `%{arg}x` directive (Plack's block_handlers): its result is escaped; empty or missing logs `-`. */
export type BlockHandler = (arg: string, env: Env, record: LogRecord) => unknown;

export type CompileOptions = {
  charHandlers?: Record<string, CharHandler>;
  blockHandlers?: Record<string, BlockHandler>;
  /** Print `%t` and `%{...}t` in UTC instead of local time. */
  utc?: boolean;
};

export type Field = (r: LogRecord) => string;

/** The two named formats, as Apache's sample configuration and Plack define them. */
export const FORMATS: Record<string, string> = {
  common: '%h %l %u %t "%r" %>s %b',
  combined: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"',
};

const peerKey = 'plank.reverse_proxy.peer_addr';
const connections = new WeakMap<object, number>();

type SocketLike = { localAddress?: string; localPort?: number };
const socketOf = (env: Env): SocketLike | undefined => env['psgix.io'] as SocketLike | undefined;

export function formatError(format: string, message: string): PlankError {
  return new PlankError('PLANK_ERR_ACCESS_LOG_FORMAT', `accessLog: format ${JSON.stringify(format)}: ${message}`);
}

export function envKeyForHeader(name: string): string {
  const key = name.toUpperCase().replace(/-/g, '_');
  return key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH' ? key : `HTTP_${key}`;
}

function cookie(env: Env, name: string): string | undefined {
  const raw = env.HTTP_COOKIE;
  if (!raw) return undefined;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const microseconds = (r: LogRecord): number => Math.max(0, Math.round((r.end - r.start) * 1000));

function timeField(arg: string, utc: boolean, format: string): Field {
  let when: (r: LogRecord) => number = (r) => r.start;
  let spec = arg;
  if (spec.startsWith('begin:')) spec = spec.slice(6);
  else if (spec.startsWith('end:')) {
    spec = spec.slice(4);
    when = (r) => r.end;
  }
  switch (spec) {
    case '': {
      const clf = clfTimeFormatter(utc);
      return (r) => clf(when(r));
    }
    case 'sec':
      return (r) => String(Math.floor(when(r) / 1000));
    case 'msec':
      return (r) => String(Math.floor(when(r)));
    case 'usec':
      return (r) => String(Math.floor(when(r) * 1000));
    case 'msec_frac':
      return (r) => String(Math.floor(when(r)) % 1000).padStart(3, '0');
    case 'usec_frac':
      return (r) => String(Math.floor(when(r) * 1000) % 1_000_000).padStart(6, '0');
    default:
      if (/%$/.test(spec.replace(/%%/g, ''))) throw formatError(format, `%{${arg}}t ends with a lone "%"`);
      // Bracketed, as Plack's AccessLog prints %{...}t (httpd prints it bare).
      return (r) => `[${strftime(spec, when(r), utc)}]`;
  }
}

/** `%u`: `-` when unset, `""` when empty, as httpd. */
export function remoteUser(env: Env): string {
  const user = env['REMOTE_USER' as `${string}.${string}`] as string | undefined;
  if (user === undefined || user === null) return '-';
  return user === '' ? '""' : escapeLogItem(user);
}

export function statusOf(r: LogRecord): string {
  return r.status > 0 ? String(r.status) : '-';
}

function connectionStatus(r: LogRecord): string {
  if (r.aborted) return 'X';
  const out = r.headers ? header.get(r.headers, 'Connection') : undefined;
  if (out && /close/i.test(out)) return '-';
  const req = r.env.HTTP_CONNECTION ?? '';
  if (/close/i.test(req)) return '-';
  if (r.env.SERVER_PROTOCOL === 'HTTP/1.0' && !/keep-alive/i.test(req)) return '-';
  return '+';
}

// Bytes of the request as received, rebuilt from env: request line, headers, blank line,
// body. Exact unless a header was repeated (env joins repeats) or folded.
function requestBytes(env: Env): number {
  let n = env.REQUEST_METHOD.length + env.REQUEST_URI.length + env.SERVER_PROTOCOL.length + 4 + 2;
  for (const key in env) {
    if (key.startsWith('HTTP_')) n += key.length - 5 + 2 + (env[key as `HTTP_${string}`] ?? '').length + 2;
  }
  if (env.CONTENT_TYPE !== undefined) n += 12 + 2 + env.CONTENT_TYPE.length + 2;
  if (env.CONTENT_LENGTH !== undefined) n += 14 + 2 + env.CONTENT_LENGTH.length + 2 + (Number(env.CONTENT_LENGTH) || 0);
  return n;
}

export function directive(ch: string, arg: string | undefined, options: CompileOptions, format: string): Field {
  const a = arg ?? '';
  switch (ch) {
    case '%':
      return () => '%';
    case 'a':
      if (a === 'c') return (r) => orDash((r.env[peerKey] as string | undefined) ?? r.env.REMOTE_ADDR);
      return (r) => orDash(r.env.REMOTE_ADDR);
    case 'h':
      return (r) => orDash(r.env.REMOTE_ADDR);
    case 'A':
      return (r) => orDash(socketOf(r.env)?.localAddress);
    case 'b':
      return (r) => (r.bodyBytes > 0 ? String(r.bodyBytes) : '-');
    case 'B':
      return (r) => String(r.bodyBytes);
    case 'C':
      return (r) => orDash(cookie(r.env, a));
    case 'D':
      return (r) => String(microseconds(r));
    case 'T':
      if (a === '' || a === 's') return (r) => String(Math.floor(microseconds(r) / 1_000_000));
      if (a === 'ms') return (r) => String(Math.floor(microseconds(r) / 1000));
      if (a === 'us') return (r) => String(microseconds(r));
      throw formatError(format, `%{${a}}T: the unit must be s, ms or us`);
    case 'e':
      return (r) => orDash(r.env[a as `${string}.${string}`]);
    case 'f':
      return (r) => (r.body !== undefined && isFileBody(r.body) ? escapeLogItem(r.body.path) : '-');
    case 'H':
      return (r) => escapeLogItem(r.env.SERVER_PROTOCOL);
    case 'i': {
      const key = envKeyForHeader(a) as `HTTP_${string}`;
      return (r) => {
        const v = r.env[key];
        return v === undefined ? '-' : escapeLogItem(v);
      };
    }
    case 'k':
      return (r) => {
        const io = r.env['psgix.io'];
        if (!io) return '0';
        const seen = connections.get(io) ?? 0;
        connections.set(io, seen + 1);
        return String(seen);
      };
    case 'l':
      return () => '-';
    case 'L':
      return (r) => orDash(r.env['plank.log_id']);
    case 'm':
      return (r) => escapeLogItem(r.env.REQUEST_METHOD);
    case 'n':
      return (r) => orDash((r.env['plank.notes'] as Record<string, unknown> | undefined)?.[a]);
    case 'o': {
      if (a.toLowerCase() === 'content-type') {
        // httpd logs the media type without parameters (ap_field_noparam).
        return (r) => {
          const v = r.headers && header.get(r.headers, a);
          return v === undefined ? '-' : escapeLogItem(v.replace(/\s*;.*$/s, ''));
        };
      }
      if (a.toLowerCase() === 'set-cookie') {
        return (r) => {
          const all = r.headers ? header.getAll(r.headers, a) : [];
          return all.length === 0 ? '-' : escapeLogItem(all.join(', '));
        };
      }
      return (r) => {
        const v = r.headers && header.get(r.headers, a);
        return v === undefined ? '-' : escapeLogItem(v);
      };
    }
    case 'p':
      if (a === '' || a === 'canonical') return (r) => orDash(r.env.SERVER_PORT);
      if (a === 'local') return (r) => orDash(socketOf(r.env)?.localPort ?? r.env.SERVER_PORT);
      if (a === 'remote') return (r) => orDash(r.env.REMOTE_PORT);
      throw formatError(format, `%{${a}}p: expected canonical, local or remote`);
    case 'P':
      if (a === '' || a === 'pid') return () => String(process.pid);
      if (a === 'tid') return () => String(threadId);
      if (a === 'hextid') return () => threadId.toString(16);
      throw formatError(format, `%{${a}}P: expected pid, tid or hextid`);
    case 'q':
      // "?" appears whenever the target had one, even with an empty query, as in httpd.
      return (r) =>
        r.env.QUERY_STRING !== '' || r.env.REQUEST_URI.includes('?') ? `?${escapeLogItem(r.env.QUERY_STRING)}` : '';
    case 'r':
      return (r) =>
        `${escapeLogItem(r.env.REQUEST_METHOD)} ${escapeLogItem(r.env.REQUEST_URI)} ${escapeLogItem(r.env.SERVER_PROTOCOL)}`;
    case 'R':
      return (r) => orDash(r.env['plank.handler']);
    case 's':
      return statusOf;
    case 't':
      return timeField(a, options.utc === true, format);
    case 'u':
      return (r) => remoteUser(r.env);
    case 'U':
      return (r) => escapeLogItem(r.env.SCRIPT_NAME + r.env.PATH_INFO) || '-';
    case 'v':
      return (r) => orDash(r.env.SERVER_NAME);
    case 'V':
      return (r) => {
        const host = r.env.HTTP_HOST;
        if (!host) return orDash(r.env.SERVER_NAME);
        return orDash(host.replace(/:\d*$/, '').toLowerCase());
      };
    case 'X':
      return connectionStatus;
    case 'I':
      return (r) => String(requestBytes(r.env));
    case 'O':
      return (r) => String(r.headerBytes + r.bodyBytes);
    case 'S':
      return (r) => String(requestBytes(r.env) + r.headerBytes + r.bodyBytes);
    default:
      break;
  }
  if (arg !== undefined) {
    const block = options.blockHandlers?.[ch];
    if (block) return (r) => orDash(block(arg, r.env, r));
  } else {
    const char = options.charHandlers?.[ch];
    if (char) return (r) => orDash(char(r.env, r));
  }
  throw formatError(format, `unknown directive %${arg !== undefined ? `{${arg}}` : ''}${ch}`);
}
