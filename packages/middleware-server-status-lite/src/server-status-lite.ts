import {
  optionError,
  PlankError,
  show,
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
};

const WHERE = 'serverStatusLite()';
const KNOWN = new Set(['path', 'allow', 'scoreboard', 'counterFile', 'refresh']);
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
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new PlankError(
      'PLANK_ERR_SERVER_STATUS_OPTIONS',
      `${WHERE}: expected an options object, got ${show(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key))
      throw new PlankError(
        'PLANK_ERR_SERVER_STATUS_OPTIONS',
        `${WHERE}: unknown option ${show(key)} (known: ${[...KNOWN].join(', ')})`,
      );
  }
  const { path, allow, counterFile } = options;
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw optionError('PLANK_ERR_SERVER_STATUS_PATH', WHERE, 'path', path, 'must be a path starting with "/"');
  const allowed = allow === undefined ? undefined : compileAllow(allow);
  const refresh = options.refresh ?? 5;
  if (!Number.isInteger(refresh) || refresh < 1 || refresh > 86400)
    throw optionError(
      'PLANK_ERR_SERVER_STATUS_REFRESH',
      WHERE,
      'refresh',
      options.refresh,
      'must be a whole number of seconds from 1 to 86400',
    );
  for (const key of ['scoreboard', 'counterFile'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) {
      throw optionError(
        key === 'scoreboard' ? 'PLANK_ERR_SERVER_STATUS_SCOREBOARD' : 'PLANK_ERR_SERVER_STATUS_COUNTER_FILE',
        WHERE,
        key,
        v,
        'must be a non-empty path',
      );
    }
  }
  if (counterFile !== undefined && options.scoreboard === undefined) {
    throw optionError(
      'PLANK_ERR_SERVER_STATUS_COUNTER_FILE',
      WHERE,
      'counterFile',
      counterFile,
      'needs the scoreboard option too (live workers keep their counts in their slots)',
    );
  }
  let board: Scoreboard | undefined;
  try {
    board = options.scoreboard === undefined ? undefined : openScoreboard({ dir: options.scoreboard, counterFile });
  } catch (err) {
    const code =
      (err as PlankError).code === 'PLANK_ERR_SCOREBOARD_COUNTER_FILE'
        ? 'PLANK_ERR_SERVER_STATUS_COUNTER_FILE'
        : 'PLANK_ERR_SERVER_STATUS_SCOREBOARD';
    throw new PlankError(code, `${WHERE}: ${(err as Error).message.replace(/^scoreboard\(\): /, '')}`, { cause: err });
  }
  if (!allowed) process.stderr.write(`[ServerStatus::Lite] 'allow' is not set: every request to ${path} gets 403\n`);
  const startedAt = Date.now();
  // The slot opens now, not at the first request, so an idle worker is listed too.
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
