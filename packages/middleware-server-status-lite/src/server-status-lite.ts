import {
  check,
  checkOptions,
  optionError,
  PlankError,
  watchFinish,
  type App,
  type Env,
  type Middleware,
  type Response,
} from '@plank/core';
import { scoreboard as openScoreboard, type Scoreboard } from '@plank/scoreboard';
import { compileAllow } from './allow.js';
import { collect, type StatusData } from './collect.js';
import { jsonFormat, prometheusFormat, textFormat } from './formats.js';
import { htmlFormat } from './html.js';
import { workerState } from './state.js';

export type ServerStatusLiteOptions = {
  /** The exact PATH_INFO that answers with the status page. */
  path: string;
  /**
   * Who may read the page: IP addresses and CIDR ranges, IPv4 and IPv6 (one string or a
   * list). IPv4-mapped peers (`::ffff:10.1.2.3`) match IPv4 entries. Checked against
   * REMOTE_ADDR, so enable ReverseProxy before this middleware to check the client behind
   * your proxy. Without it every request to `path` gets 403.
   * @default undefined (nobody)
   */
  allow?: string | readonly string[];
  /**
   * The scoreboard directory every worker writes its slot to. Without it the page shows
   * only the uptime (and the Perl module's "Scoreboard has been disabled" warning).
   * @default undefined
   */
  scoreboard?: string;
  /**
   * Enables Total Accesses and Total kBytes: where the counts of exited workers are kept
   * (needs `scoreboard`, which holds the live workers' counts).
   * @default undefined
   */
  counterFile?: string;
  /**
   * Seconds between reloads of the HTML page; `?refresh=N` overrides it per request.
   * @default 5
   */
  refresh?: number;
  /**
   * Trusts a group-writable scoreboard directory (see the trust model in @plank/scoreboard),
   * for workers of several users sharing a group.
   * @default false
   */
  groupWritable?: boolean;
};

const WHERE = 'serverStatusLite()';
const CODE = 'PLANK_ERR_SERVER_STATUS_LITE_OPTION';
const SCHEMA = {
  path: check.custom('must be a path starting with "/"', (v) =>
    typeof v === 'string' && v.startsWith('/') ? v : undefined,
  ),
  // Which strings are addresses is compileAllow's to say.
  allow: check.either(check.string, check.array(check.string)),
  scoreboard: check.path,
  counterFile: check.path,
  refresh: check.integer({ min: 1, max: 86400 }),
  groupWritable: check.boolean,
};
// A new response each time: a body filter further out may replace its body in place.
const forbidden = (): Response => [403, ['Content-Type', 'text/plain'], ['Forbidden']];

type Format = 'text' | 'json' | 'prometheus' | 'openmetrics' | 'html';

/** Picks the output: `?json` first (as Perl), then `format=`, then `?auto`, then Accept. */
export function pickFormat(query: string, accept: string | undefined): Format {
  if (/\bjson\b/i.test(query)) return 'json';
  const format = /(?:^|&)format=([a-z]+)/i.exec(query)?.[1]?.toLowerCase();
  if (format === 'prometheus' || format === 'metrics')
    return accept?.includes('application/openmetrics-text') ? 'openmetrics' : 'prometheus';
  if (format === 'openmetrics') return 'openmetrics';
  if (format === 'html') return 'html';
  if (format === 'text' || /(?:^|&)auto(?:=|&|$)/.test(query)) return 'text';
  return accept?.includes('text/html') ? 'html' : 'text';
}

function render(d: StatusData, format: Format, refresh: number): Response {
  switch (format) {
    case 'json':
      return [200, ['Content-Type', 'application/json; charset=utf-8'], [jsonFormat(d)]];
    case 'prometheus':
      return [200, ['Content-Type', 'text/plain; version=0.0.4; charset=utf-8'], [prometheusFormat(d)]];
    case 'openmetrics':
      return [
        200,
        ['Content-Type', 'application/openmetrics-text; version=1.0.0; charset=utf-8'],
        [prometheusFormat(d, true)],
      ];
    case 'html':
      return [200, ['Content-Type', 'text/html; charset=utf-8', 'Cache-Control', 'no-store'], [htmlFormat(d, refresh)]];
    default:
      // Byte strings from env go out as the bytes they came in as, as Perl prints them.
      return [200, ['Content-Type', 'text/plain'], [Buffer.from(textFormat(d), 'latin1')]];
  }
}

/**
 * A status page of every worker, from any worker (Plack::Middleware::ServerStatus::Lite):
 * each worker records in its scoreboard slot what it is doing (`A` with the request, `_`
 * when the response is out), and a request to `path` from an allowed address reads every
 * slot. Text (byte-compatible with the Perl module, which mod_status-style scrapers read),
 * `?json`, `?format=prometheus`, or an HTML page for browsers.
 *
 * @example
 * ```ts
 * import { serverStatusLite } from '@plank/middleware-server-status-lite';
 * import { builder } from '@plank/core';
 * export default builder(({ enable }) => {
 *   enable(serverStatusLite({ path: '/server-status', allow: ['127.0.0.1', '::1'], scoreboard: 'var/scoreboard', counterFile: 'var/counter' }));
 *   return () => [200, ['Content-Type', 'text/plain'], ['Hello']];
 * });
 * ```
 */
export function serverStatusLite(options: ServerStatusLiteOptions): Middleware {
  const o = checkOptions(WHERE, CODE, options, SCHEMA);
  const { path, counterFile, refresh = 5 } = o;
  if (path === undefined) throw optionError(CODE, WHERE, 'path', path, "is required (the status page's PATH_INFO)");
  const allowed = o.allow === undefined ? undefined : compileAllow(o.allow);
  if (counterFile !== undefined && o.scoreboard === undefined) {
    throw optionError(
      CODE,
      WHERE,
      'counterFile',
      counterFile,
      'needs the scoreboard option too (live workers keep their counts in their slots)',
    );
  }
  let board: Scoreboard | undefined;
  try {
    // Checks the directories without creating anything: the slot file (and the directory)
    // appear at the first request, so `plankup --check` writes nothing.
    board =
      o.scoreboard === undefined
        ? undefined
        : openScoreboard({ dir: o.scoreboard, counterFile, groupWritable: o.groupWritable });
  } catch (err) {
    // PLANK_ERR_SCOREBOARD_DIR (an untrusted or unwritable directory), told as this factory's.
    const { code } = err as PlankError;
    throw new PlankError(code, `${WHERE}: ${(err as Error).message.replace(/^scoreboard\(\): /, '')}`, { cause: err });
  }
  if (!allowed) process.stderr.write(`[ServerStatus::Lite] 'allow' is not set: every request to ${path} gets 403\n`);
  const startedAt = Date.now();
  // The slot's file is created at its first write (the first request), not now.
  const state = board ? workerState(board.slot()) : undefined;

  const statusPage = async (env: Env): Promise<Response> => {
    if (!allowed?.(env.REMOTE_ADDR)) return forbidden();
    const format = pickFormat(env.QUERY_STRING, env.HTTP_ACCEPT);
    const asked = Number(/(?:^|&)refresh=(\d{1,5})(?:&|$)/.exec(env.QUERY_STRING)?.[1]);
    // This worker's own slot is as fresh as it can be; the others are at most FLUSH_MS old.
    state?.flush();
    return render(await collect(board, startedAt), format, asked >= 1 ? asked : refresh);
  };

  return function serverStatusLiteMiddleware(app: App): App {
    const inner: App = (env) => (env.PATH_INFO === path ? statusPage(env) : app(env));
    if (!state) return inner;
    return function serverStatusLite(env) {
      const req = state.begin(env);
      // Without plank.finish, watchFinish takes the end of the body as the end of the request.
      return watchFinish(env, inner, (info) => state.end(req, info.bodyBytes));
    };
  };
}

/** Lets `enable('ServerStatus::Lite', options)` find the factory by name. */
export const plankMiddleware: { 'ServerStatus::Lite': typeof serverStatusLite } = {
  'ServerStatus::Lite': serverStatusLite,
};
