import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ErrorStream } from '@plank/core';

/**
 * What the server reports when it answers a request itself, without the app: node's own
 * replies to requests it cannot parse (400), that come too slowly (408) or whose headers are
 * too large (431), and the server's checks (400 for a bad or repeated Host, 413 for a body
 * over `bodyLimit`, 501 for CONNECT).
 */
export type ClientErrorReport = {
  /** The status sent, or that would have been sent had the connection still been writable. */
  status: number;
  /** Why: node's parser code (`HPE_INVALID_METHOD`, `ERR_HTTP_REQUEST_TIMEOUT`, ...) or Plank's (`PLANK_ERR_HOST`, ...). */
  code: string;
  /** One line saying what was wrong. */
  message: string;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Method and target, when the request line could be read. */
  method: string | undefined;
  url: string | undefined;
  /** When the server answered. */
  time: Date;
};

/**
 * The diagnostics channel every server built on server-node publishes a
 * {@link ClientErrorReport} to: the hook for an access log (or anything else) that wants to
 * see the requests the app never saw. Publishing costs nothing while nobody subscribes.
 */
export const CLIENT_ERROR_CHANNEL = 'plank:server:client-error';
const reports = channel(CLIENT_ERROR_CHANNEL);

/**
 * Calls `listener` with every {@link ClientErrorReport} of every server in this process, and
 * returns the function that stops it.
 *
 * @example
 * ```ts
 * import { onClientError } from '@plank/server-node';
 * const stop = onClientError((r) => console.log(`${r.remoteAddress} ${r.status} ${r.code}`));
 * ```
 */
export function onClientError(listener: (report: ClientErrorReport) => void): () => void {
  const wrapped = (message: unknown): void => listener(message as ClientErrorReport);
  subscribe(CLIENT_ERROR_CHANNEL, wrapped);
  return () => void unsubscribe(CLIENT_ERROR_CHANNEL, wrapped);
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};

/** The reason phrase the server sends with a status it answers itself. */
export function reasonOf(status: number): string {
  return reasons[status] ?? 'Bad Request';
}

/**
 * Returns the reporter one server uses: each report goes to the channel, and to `errors` as
 * one line, at most one line a second for each status, so a flood of bad requests cannot
 * flood the log (the next line says how many were left out).
 */
export function clientErrorReporter(errors: ErrorStream): (report: ClientErrorReport) => void {
  const last = new Map<number, { at: number; skipped: number }>();
  return function reportClientError(report) {
    if (reports.hasSubscribers) reports.publish(report);
    const now = report.time.getTime();
    const seen = last.get(report.status);
    if (seen !== undefined && now - seen.at < 1000) {
      seen.skipped++;
      return;
    }
    const skipped = seen?.skipped ?? 0;
    last.set(report.status, { at: now, skipped: 0 });
    const peer = report.remoteAddress === undefined ? 'a client' : `${report.remoteAddress}:${report.remotePort}`;
    const request = report.method === undefined ? '' : ` (${report.method} ${JSON.stringify(report.url ?? '')})`;
    const more = skipped === 0 ? '' : `; ${skipped} more ${report.status} not logged since the last line`;
    try {
      errors.write(
        `plank: answered ${report.status} ${reasonOf(report.status)} to ${peer}${request}: ${report.code}: ${report.message}${more}\n`,
      );
    } catch {
      // A broken error stream must not turn a client's mistake into a server crash.
    }
  };
}
