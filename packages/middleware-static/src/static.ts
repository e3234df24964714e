import type { App, Env, Middleware } from '@plank/core';
import { resolveOptions, type StaticOptions } from './options.js';
import { methodNotAllowed } from './responses.js';
import { createFileServer, andThen } from './serve.js';

type Matcher = (pathInfo: string, env: Env) => string | false;

/**
 * Serves files below `root` for the requests `path` claims and hands every other request
 * to the app: Plack::Middleware::Static. Claimed requests that are not GET or HEAD get a
 * 405 (or go to the app with `passThrough`); a missing file is a 404 (or goes to the app
 * with `passThrough`); traversal, NUL bytes and bad encoding are refused with 400/403.
 *
 * @example
 * ```ts
 * import { builder } from '@plank/core';
 * import { serveStatic } from '@plank/middleware-static';
 * export default builder(({ enable }) => {
 *   enable(serveStatic({ path: /^\/(css|js|images)\//, root: './htdocs', maxAge: 3600 }));
 *   return () => [200, ['Content-Type', 'text/plain'], ['the app']];
 * });
 * ```
 */
export function serveStatic(options: StaticOptions = {}): Middleware {
  const o = resolveOptions('serveStatic', options);
  const match = compilePath(o.path);
  const passThrough = o.passThrough;
  const files = createFileServer(o);
  return function serveStaticMiddleware(app: App): App {
    return function serveStatic(env) {
      const path = match(env.PATH_INFO, env);
      if (path === false) return app(env);
      if (env.REQUEST_METHOD !== 'GET' && env.REQUEST_METHOD !== 'HEAD')
        return passThrough ? app(env) : methodNotAllowed();
      const res = files.serve(env, path);
      return passThrough ? andThen(res, (r) => (r[0] === 404 ? app(env) : r)) : res;
    };
  };
}

// `path` was checked with the options: a RegExp, a prefix string starting with `/`, or a function.
function compilePath(path: StaticOptions['path']): Matcher {
  if (path === undefined) return () => false;
  if (path instanceof RegExp) {
    // A /g or /y regex keeps lastIndex between calls and would match every other request.
    const re = path.global || path.sticky ? new RegExp(path.source, path.flags.replace(/[gy]/g, '')) : path;
    return (p) => (re.test(p) ? p : false);
  }
  if (typeof path === 'string') {
    // On a segment boundary: `/static` claims `/static` and `/static/x`, not `/staticky`.
    const base = path.endsWith('/') ? path.slice(0, -1) : path;
    // Built once: every request the app answers (not under the prefix) passes this test.
    const prefix = `${base}/`;
    return (p) => (base === '' || p.startsWith(prefix) || p === base ? p : false);
  }
  return (p, env) => {
    const out = path(p, env) as unknown;
    if (typeof out !== 'string') return false;
    return out.startsWith('/') ? out : `/${out}`;
  };
}
