import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientErrorReport } from './client-errors.js';
import { reasonOf } from './client-errors.js';
import { watchBody } from './node-private.js';

// The checks the server makes before the app sees a request, where RFC 9112 and nginx are
// stricter than node:http.

export type GuardOptions = {
  /** Largest request body in bytes; 0 for no limit. */
  bodyLimit: number;
  report: (report: ClientErrorReport) => void;
};

/** A request listener that answers bad requests itself and hands the rest to `listener`. */
export function guarded(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  options: GuardOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { bodyLimit, report } = options;
  return function plankGuard(req, res) {
    const hostProblem = checkHost(req);
    if (hostProblem !== undefined) return refuse(req, res, 400, 'PLANK_ERR_HOST', hostProblem, report);
    if (bodyLimit > 0 && !limitBody(req, res, bodyLimit, report)) return;
    listener(req, res);
  };
}

/**
 * Whether a request whose headers say `Expect: 100-continue` may go on: false (and a 413
 * sent instead of `100 Continue`) when its Content-Length is over the limit.
 */
export function mayContinue(req: IncomingMessage, res: ServerResponse, options: GuardOptions): boolean {
  const length = contentLength(req);
  if (options.bodyLimit > 0 && length > options.bodyLimit) {
    refuse(req, res, 413, 'PLANK_ERR_BODY_LIMIT', tooLarge(length, options.bodyLimit), options.report);
    return false;
  }
  return true;
}

const tooLarge = (length: number, limit: number): string =>
  `the request body is ${length} bytes, more than bodyLimit (${limit})`;

function contentLength(req: IncomingMessage): number {
  const value = req.headers['content-length'];
  return value === undefined ? -1 : Number(value);
}

/**
 * Refuses a body announced larger than the limit before reading any of it; counts a body
 * of unannounced length (chunked) as it arrives, and once it grows past the limit answers
 * 413 if the app has not answered yet, stops reading and closes the connection.
 */
function limitBody(req: IncomingMessage, res: ServerResponse, limit: number, report: GuardOptions['report']): boolean {
  const length = contentLength(req);
  if (length > limit) {
    refuse(req, res, 413, 'PLANK_ERR_BODY_LIMIT', tooLarge(length, limit), report);
    return false;
  }
  if (length >= 0 || req.headers['transfer-encoding'] === undefined) return true;
  let seen = 0;
  watchBody(req, (bytes) => {
    seen += bytes;
    if (seen <= limit) return true;
    if (seen - bytes <= limit) overflow(req, res, limit, report);
    return false;
  });
  // A body the app leaves unread is read (and counted) before the connection is reused.
  res.once('prefinish', () => {
    if (!req.complete && !req.readableDidRead) req.resume();
  });
  return true;
}

function overflow(req: IncomingMessage, res: ServerResponse, limit: number, report: GuardOptions['report']): void {
  const message = `the chunked request body grew past bodyLimit (${limit} bytes)`;
  const error = Object.assign(new Error(message), { code: 'PLANK_ERR_BODY_LIMIT' });
  if (res.headersSent) {
    // The app answered already; the connection cannot be reused with the body half read.
    report(reportOf(req, 413, 'PLANK_ERR_BODY_LIMIT', message));
    req.destroy(error);
    return;
  }
  refuse(req, res, 413, 'PLANK_ERR_BODY_LIMIT', message, report, () => req.destroy(error));
}

/** Answers `status` with `Connection: close` and reports it; `after` runs once the answer is out. */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  report: GuardOptions['report'],
  after?: () => void,
): void {
  report(reportOf(req, status, code, message));
  const body = `${reasonOf(status)}\n`;
  res.shouldKeepAlive = false;
  res.writeHead(status, ['Content-Type', 'text/plain', 'Content-Length', String(body.length), 'Connection', 'close']);
  res.end(req.method === 'HEAD' ? undefined : body, after);
}

export function reportOf(req: IncomingMessage, status: number, code: string, message: string): ClientErrorReport {
  return {
    status,
    code,
    message,
    remoteAddress: req.socket.remoteAddress,
    remotePort: req.socket.remotePort,
    method: req.method,
    url: req.url,
    time: new Date(),
  };
}

// RFC 9112 §3.2: a request with more than one Host, or with an invalid one, gets a 400.
// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP literal in brackets
// or a reg-name (unreserved, pct-encoded, sub-delims; empty is allowed), then digits.
// Ports above 65535 are refused too: SERVER_PORT must be a port.
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::(\d*))?$/;
// Every request of a site carries the same Host: remember the last valid one.
let lastValid = '';

/** Why the request's Host (or absolute-form target's authority) is not acceptable, or undefined. */
export function checkHost(req: IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // No toLowerCase(): it allocates a string per header line, on every request.
    if (name.length !== 4 || !isHost(name)) continue;
    if (host !== undefined) return 'more than one Host header';
    host = raw[i + 1] as string;
  }
  if (host !== undefined && host !== lastValid) {
    const why = invalidAuthority(host);
    if (why !== undefined) return `invalid Host ${JSON.stringify(host)}: ${why}`;
    lastValid = host;
  }
  const url = req.url ?? '/';
  if (url.charCodeAt(0) !== 47 /* / */ && url !== '*') {
    const scheme = url.indexOf('://');
    if (scheme > 0) {
      const rest = url.slice(scheme + 3);
      const end = rest.search(/[/?#]/);
      let authority = end === -1 ? rest : rest.slice(0, end);
      authority = authority.slice(authority.lastIndexOf('@') + 1);
      const why = invalidAuthority(authority);
      if (why !== undefined) return `invalid authority ${JSON.stringify(authority)} in the request target: ${why}`;
    }
  }
  return undefined;
}

function isHost(name: string): boolean {
  return (
    (name.charCodeAt(0) | 0x20) === 104 /* h */ &&
    (name.charCodeAt(1) | 0x20) === 111 /* o */ &&
    (name.charCodeAt(2) | 0x20) === 115 /* s */ &&
    (name.charCodeAt(3) | 0x20) === 116 /* t */
  );
}

function invalidAuthority(value: string): string | undefined {
  const m = HOST.exec(value);
  if (m === null) return 'not a host name or address';
  const port = m[1];
  if (port !== undefined && port !== '' && Number(port) > 65535) return 'the port is above 65535';
  return undefined;
}
