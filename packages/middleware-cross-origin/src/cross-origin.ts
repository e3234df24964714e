import {
  check,
  checkOptions,
  header,
  PlankError,
  responseCb,
  type AppResult,
  type Env,
  type Middleware,
} from '@plank/core';
import { compileOrigins, type OriginFunction, type OriginPattern } from './origins.js';

export type CrossOriginOptions = {
  /**
   * The origins allowed to read responses: `'*'` (any), an origin (`https://app.example.com`),
   * a pattern with `*` in the host (`https://*.example.com`), a RegExp, a list of these, or a
   * function `(origin, env) => boolean | Promise<boolean>`. Required: there is no safe default.
   */
  origins: '*' | OriginPattern | readonly OriginPattern[] | OriginFunction;
  /** Methods a preflight may ask for, or `'*'` for whatever it asks. @default ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'] */
  methods?: '*' | readonly string[];
  /** Request headers a preflight may ask for (any case), or `'*'` for whatever it asks. @default '*' */
  headers?: '*' | readonly string[];
  /** Response headers scripts may read, or `'*'` for every header of the response but the always-readable ones. @default [] */
  exposeHeaders?: '*' | readonly string[];
  /** Allow cookies and HTTP auth: adds `Access-Control-Allow-Credentials: true`, and the origin is echoed instead of `*`. @default false */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight's answer (`Access-Control-Max-Age`). @default none (the browser's 5 s) */
  maxAge?: number;
  /** A simple request from an origin not allowed goes on to the app, without CORS headers, instead of a 403. Preflights still get 403. @default false */
  continueOnFailure?: boolean;
};

const CODE = 'PLANK_ERR_CROSS_ORIGIN_OPTION';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const tokens = check.either(
  check.oneOf('*'),
  check.custom('must be "*" or a list of tokens (GET, X-Requested-With)', (v) =>
    Array.isArray(v) && v.every((t) => typeof t === 'string' && TOKEN.test(t)) ? (v as string[]) : undefined,
  ),
);
const originPattern = (v: unknown): OriginPattern | undefined =>
  v instanceof RegExp ||
  (typeof v === 'string' && (v === '*' || v === 'null' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(v)))
    ? (v as OriginPattern)
    : undefined;
// Readable by any script without being exposed (the CORS-safelisted response headers).
const SAFELISTED = new Set([
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
]);

/**
 * Cross-Origin Resource Sharing, as Plack::Middleware::CrossOrigin and express's cors:
 * answers preflights (`OPTIONS` with `Access-Control-Request-Method`) itself with 204 and
 * the allowed methods and headers, adds `Access-Control-Allow-Origin` (and the credentials
 * and expose headers) to the responses of allowed origins, refuses what is not allowed with
 * 403, and adds `Vary: Origin` to every response so caches keep the answers apart. A request
 * whose Origin is the server's own (a same-origin fetch or form post) is not a CORS request
 * and passes untouched. By name: `enable('CrossOrigin', { origins: [...] })`.
 *
 * @example
 * ```ts
 * import { crossOrigin } from '@plank/middleware-cross-origin';
 * export default crossOrigin({ origins: ['https://app.example.com'], credentials: true, maxAge: 600 })(
 *   () => [200, ['Content-Type', 'application/json'], ['{"ok":true}']],
 * );
 * ```
 */
export function crossOrigin(options: CrossOriginOptions): Middleware {
  const o = checkOptions('CrossOrigin', CODE, options, {
    origins: check.either(
      check.function,
      check.custom(
        'must be "*", an origin (https://host[:port]), a pattern, a RegExp, a list of these or a function',
        originPattern,
      ),
      check.array(check.custom('must be an origin (https://host[:port]), a pattern with * or a RegExp', originPattern)),
    ),
    methods: tokens,
    headers: tokens,
    exposeHeaders: tokens,
    credentials: check.boolean,
    maxAge: check.integer({ min: 0 }),
    continueOnFailure: check.boolean,
  });
  if (o.origins === undefined)
    throw new PlankError(CODE, 'CrossOrigin: option "origins" is required ("*", a list of origins, or a function)');
  const allowed = compileOrigins(o.origins as CrossOriginOptions['origins']);
  const anyOrigin = allowed === true;
  const methods = o.methods ?? ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'];
  const methodSet = new Set(methods === '*' ? [] : methods);
  const headers = o.headers ?? '*';
  const headerSet = new Set(headers === '*' ? [] : headers.map((h) => h.toLowerCase()));
  const expose = o.exposeHeaders ?? [];
  const credentials = o.credentials === true;
  const maxAge = o.maxAge;
  const continueOnFailure = o.continueOnFailure === true;

  return (app) =>
    function crossOriginApp(env) {
      const origin = env.HTTP_ORIGIN;
      if (origin === undefined || origin === '' || isSameOrigin(env, origin)) return withVary(app(env));
      const requested = env.HTTP_ACCESS_CONTROL_REQUEST_METHOD;
      const preflight = env.REQUEST_METHOD === 'OPTIONS' && requested !== undefined;
      const decide = (ok: boolean): AppResult | Promise<AppResult> => {
        if (!ok) return continueOnFailure && !preflight ? withVary(app(env)) : forbidden();
        const cors: string[] = [];
        if (credentials) cors.push('Access-Control-Allow-Credentials', 'true');
        // With credentials a browser refuses `*`, so the origin is echoed (and Vary covers it).
        cors.push('Access-Control-Allow-Origin', anyOrigin && !credentials ? '*' : origin);
        if (preflight) return preflightResponse(cors, requested, env.HTTP_ACCESS_CONTROL_REQUEST_HEADERS);
        return responseCb(app(env), (res) => {
          addVary(res[1]);
          const exposed = expose === '*' ? exposable(res[1]) : expose;
          if (exposed.length > 0) cors.push('Access-Control-Expose-Headers', exposed.join(', '));
          res[1].push(...cors);
        });
      };
      if (allowed === true) return decide(true);
      const verdict = allowed(origin, env);
      return verdict instanceof Promise ? verdict.then((ok) => decide(ok === true)) : decide(verdict === true);
    };

  function preflightResponse(cors: string[], method: string, requestHeaders: string | undefined): AppResult {
    if (methods !== '*' && !methodSet.has(method)) return forbidden();
    const asked = (requestHeaders ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    if (headers !== '*' && !asked.every((h) => headerSet.has(h.toLowerCase()))) return forbidden();
    // A reflected list depends on the request's own headers, so caches must key on them too.
    const vary = ['Origin'];
    if (methods === '*') vary.push('Access-Control-Request-Method');
    if (headers === '*') vary.push('Access-Control-Request-Headers');
    const out = ['Vary', vary.join(', '), ...cors];
    if (maxAge !== undefined) out.push('Access-Control-Max-Age', String(maxAge));
    // One header with a list, not one header per value: some browsers read only the first.
    out.push('Access-Control-Allow-Methods', methods === '*' ? method : methods.join(', '));
    const allowHeaders = headers === '*' ? asked : headers;
    if (allowHeaders.length > 0) out.push('Access-Control-Allow-Headers', allowHeaders.join(', '));
    return [204, out, []];
  }
}

function forbidden(): AppResult {
  return [403, ['Content-Type', 'text/plain', 'Content-Length', '9', 'Vary', 'Origin'], ['forbidden']];
}

function withVary(result: AppResult | Promise<AppResult>): AppResult | Promise<AppResult> {
  return responseCb(result, (res) => addVary(res[1]));
}

function addVary(headers: string[]): void {
  const vary = header.get(headers, 'Vary');
  if (vary === undefined) header.push(headers, 'Vary', 'Origin');
  else if (!vary.split(',').some((v) => ['origin', '*'].includes(v.trim().toLowerCase())))
    header.set(headers, 'Vary', `${vary}, Origin`);
}

function exposable(headers: string[]): string[] {
  const names = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!SAFELISTED.has(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}

// The Fetch standard's rule: a request from the server's own origin is not cross-origin.
// Browsers send Origin on same-origin POSTs and fetches too; refusing those would break the
// site's own forms.
function isSameOrigin(env: Env, origin: string): boolean {
  const host = env.HTTP_HOST;
  if (host === undefined) return false;
  const scheme = env['psgi.url_scheme'];
  // An origin never carries its scheme's default port; a Host header may.
  const bare = host.toLowerCase().replace(scheme === 'https' ? /:443$/ : /:80$/, '');
  return origin.toLowerCase() === `${scheme}://${bare}`;
}

/** The name `enable('CrossOrigin')` resolves to. */
export const plankMiddleware: { CrossOrigin: typeof crossOrigin } = { CrossOrigin: crossOrigin };
