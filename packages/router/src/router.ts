import { type App, check, checkOptions, type Env, PlankError, show, urlMap } from '@plank/core';
import { METHODS } from 'node:http';
import FindMyWay from 'find-my-way';
import type { RouteParams } from './params.js';

/** A route's handler: the request's env and the route's parameters (also in `env['plank.router.params']`). */
export type RouteHandler<P extends string = string> = (env: Env, params: RouteParams<P>) => ReturnType<App>;

/** What the block given to {@link router} receives: one method per way of adding routes. */
export type RouterDSL = {
  get<P extends string>(path: P, handler: RouteHandler<P>): void;
  post<P extends string>(path: P, handler: RouteHandler<P>): void;
  put<P extends string>(path: P, handler: RouteHandler<P>): void;
  patch<P extends string>(path: P, handler: RouteHandler<P>): void;
  delete<P extends string>(path: P, handler: RouteHandler<P>): void;
  /** Only needed to answer HEAD differently from GET: GET routes answer HEAD already. */
  head<P extends string>(path: P, handler: RouteHandler<P>): void;
  /** Only needed to answer OPTIONS yourself: the router answers it with `Allow` already. */
  options<P extends string>(path: P, handler: RouteHandler<P>): void;
  /** One handler for several methods (`['GET', 'POST']`), or for every method with `'*'`. */
  route<P extends string>(methods: string | readonly string[], path: P, handler: RouteHandler<P>): void;
  /**
   * Serves a whole app under a path prefix, for every method: the prefix moves from
   * `PATH_INFO` to `SCRIPT_NAME` for it, as `urlMap` and `mount` in a builder do.
   */
  mount(prefix: string, app: App): void;
};

export type RouterOptions = {
  /** Serves requests whose path no route has. @default a `404 Not Found` text response */
  fallback?: App;
  /** Compare static parts of paths case-sensitively. @default true */
  caseSensitive?: boolean;
  /** `/users/` matches the route `/users` and the other way round. @default false */
  ignoreTrailingSlash?: boolean;
  /** The longest value a parameter may take; longer ones do not match. @default 100 */
  maxParamLength?: number;
};

const OPTION_CODE = 'PLANK_ERR_ROUTER_OPTION';
const ROUTE_CODE = 'PLANK_ERR_ROUTER_ROUTE';
// The methods both node:http parses and find-my-way routes (its list is a snapshot of node's);
// a route for any other method could never match, so adding one is an error.
const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS.filter(findMyWayRoutes));
const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NOT_FOUND: App = () => [404, ['Content-Type', 'text/plain', 'Content-Length', '9'], ['Not Found']];

/**
 * Routes requests by method and path to handlers, on find-my-way (fastify's router):
 * parameters (`/users/:id`, `/:file.:ext`, `/:id(^\\d+)`), wildcards (`/files/*`), GET routes
 * answering HEAD, `405 Method Not Allowed` with `Allow` when the path exists for other methods,
 * and `OPTIONS` answered with `Allow`. Paths are matched against `PATH_INFO`, so a router works
 * the same at the root, under `mount()` in a builder and under `urlMap`. Returns an App; a
 * mistake in a route (a duplicate, an unknown method, a bad pattern) throws here, not at the
 * first request.
 *
 * @example
 * ```ts
 * import { router } from '@plank/router';
 *
 * export default router((r) => {
 *   r.get('/', () => [200, ['Content-Type', 'text/plain'], ['home']]);
 *   r.get('/users/:id', (env, { id }) => [200, ['Content-Type', 'text/plain'], [`user ${id}`]]);
 * });
 * ```
 */
export function router(define: (r: RouterDSL) => void, options?: RouterOptions): App {
  const o = checkOptions('Router', OPTION_CODE, options, {
    fallback: check.function,
    caseSensitive: check.boolean,
    ignoreTrailingSlash: check.boolean,
    maxParamLength: check.integer({ min: 1 }),
  });
  if (typeof define !== 'function') {
    throw new PlankError(OPTION_CODE, `router(): expected a function that adds routes, got ${show(define)}`);
  }
  const fallback = (o.fallback as App | undefined) ?? NOT_FOUND;
  const fmw = FindMyWay({
    caseSensitive: o.caseSensitive ?? true,
    ignoreTrailingSlash: o.ignoreTrailingSlash ?? false,
    maxParamLength: o.maxParamLength ?? 100,
    // Query strings are the app's business (QUERY_STRING); do not parse one per request.
    querystringParser: () => EMPTY,
  });
  const methods: string[] = [];
  define(dsl(fmw, methods));
  const routed = new Set(methods);

  // The methods that have a route for this path, in the order they were first added.
  function allowed(path: string): string[] {
    const allow = methods.filter((m) => fmw.find(m as FindMyWay.HTTPMethod, path) !== null);
    if (allow.includes('GET') && !allow.includes('HEAD')) allow.splice(allow.indexOf('GET') + 1, 0, 'HEAD');
    if (allow.length > 0 && !allow.includes('OPTIONS')) allow.push('OPTIONS');
    return allow;
  }

  return function routerApp(env: Env): ReturnType<App> {
    const path = routable(env.PATH_INFO);
    const method = env.REQUEST_METHOD;
    const found =
      (routed.has(method) ? fmw.find(method as FindMyWay.HTTPMethod, path) : null) ??
      (method === 'HEAD' && routed.has('GET') ? fmw.find('GET', path) : null);
    if (found !== null) {
      const params = found.params as Record<string, string>;
      env['plank.router.params'] = params;
      env['plank.router.route'] = found.store;
      return (found.handler as unknown as RouteHandler)(env, params);
    }
    const allow = allowed(path);
    if (allow.length === 0) return fallback(env);
    const list = allow.join(', ');
    if (method === 'OPTIONS') return [204, ['Allow', list], []];
    return [405, ['Allow', list, 'Content-Type', 'text/plain', 'Content-Length', '18'], ['Method Not Allowed']];
  };
}

function dsl(fmw: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, methods: string[]): RouterDSL {
  const add = (list: string | readonly string[], path: string, handler: RouteHandler) => {
    const wanted = list === '*' ? [...KNOWN_METHODS] : typeof list === 'string' ? [list] : [...list];
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new PlankError(ROUTE_CODE, `route ${show(path)}: a path must start with "/"`);
    }
    if (typeof handler !== 'function') {
      throw new PlankError(
        ROUTE_CODE,
        `route ${wanted.join(',')} ${path}: expected a handler function, got ${show(handler)}`,
      );
    }
    for (const method of wanted) {
      if (typeof method !== 'string' || !KNOWN_METHODS.has(method)) {
        throw new PlankError(ROUTE_CODE, `route ${show(method)} ${path}: not an HTTP method this router knows`);
      }
      try {
        fmw.on(
          method as FindMyWay.HTTPMethod,
          path,
          handler as unknown as FindMyWay.Handler<FindMyWay.HTTPVersion.V1>,
          path,
        );
      } catch (e) {
        throw new PlankError(ROUTE_CODE, `route ${method} ${path}: ${(e as Error).message}`, { cause: e });
      }
      if (!methods.includes(method)) methods.push(method);
    }
  };
  const one =
    (method: string) =>
    <P extends string>(path: P, handler: RouteHandler<P>) =>
      add(method, path, handler as RouteHandler);
  return {
    get: one('GET'),
    post: one('POST'),
    put: one('PUT'),
    patch: one('PATCH'),
    delete: one('DELETE'),
    head: one('HEAD'),
    options: one('OPTIONS'),
    route: (list, path, handler) => add(list, path, handler as RouteHandler),
    mount(prefix, app) {
      const location = prefix.replace(/\/+$/, '');
      // urlMap is the one mechanism that moves a prefix into SCRIPT_NAME and restores it.
      const mounted = urlMap({ [location || '/']: app });
      const handler: RouteHandler = (env) => mounted(env);
      add('*', location || '/', handler);
      add('*', `${location}/*`, handler);
    },
  };
}

// PATH_INFO is already percent-decoded bytes (one character per byte); find-my-way decodes
// the path it is given, so the characters that would be decoded or cut a second time (`%`,
// `?`, `#`), and every non-ASCII byte, are encoded back. Parameters then come out decoded
// once, as UTF-8; a path that is not valid UTF-8 matches no parameterised route.
const NEEDS_ENCODING = /[%?#\x00-\x20\x7f-\uffff]/;

function routable(pathInfo: string): string {
  if (pathInfo === '') return '/';
  if (!NEEDS_ENCODING.test(pathInfo)) return pathInfo;
  let out = '';
  for (const ch of pathInfo) {
    const code = ch.charCodeAt(0);
    if (NEEDS_ENCODING.test(ch)) {
      out += code <= 0xff ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(ch);
    } else out += ch;
  }
  return out;
}

function findMyWayRoutes(method: string): boolean {
  try {
    FindMyWay().on(method as FindMyWay.HTTPMethod, '/', () => {});
    return true;
  } catch {
    return false;
  }
}
