import { encodePath } from './encode-path.js';
import { PlankError, show } from './errors.js';
import { responseCb } from './response-cb.js';
import { statusText } from './status-text.js';
import type { App, Env, Response } from './types.js';

// `directory`: the location was written with a trailing slash, so its root redirects to it.
type Entry = { host: string | undefined; location: string; directory: boolean; app: App };

/**
 * Dispatches to several apps by host and path prefix (Plack::App::URLMap). `map` is an
 * object or a list of `[location, app]` pairs; a location is a path (`/api`) or a URL
 * whose host is matched too (`http://admin.example.com/`). The longest host, then the
 * longest path wins; a prefix only matches on a `/` boundary (`/foo` serves `/foo`,
 * `/foo/` and `/foo/bar`, never `/foobar`); paths compare case-sensitively, hosts do not.
 * The matched prefix moves from PATH_INFO to SCRIPT_NAME for the app and is restored when
 * its response arrives. Nothing matching gives `404 Not Found`.
 *
 * A location written with a trailing slash (`'/site/'`) mounts a directory, as nginx's
 * `location /site/`: a request for its root without the slash (`/site`, `/site?x=1`) is
 * redirected to it (`/site/`, `/site/?x=1`), so relative links in the pages it serves
 * resolve under the mount point; `301` for GET and HEAD, `308` (which keeps the method and
 * body) for the others. A location without one (`'/api'`, `'/robots.txt'`) passes its root
 * to the app with an empty PATH_INFO, as Plack does, so exact endpoints (health checks,
 * a single file, a POST endpoint) answer without a detour.
 *
 * @example
 * ```ts
 * import { urlMap, type App } from '@plank/core';
 * const api: App = (env) => [200, ['Content-Type', 'text/plain'], [`api ${env.SCRIPT_NAME}|${env.PATH_INFO}`]];
 * const site: App = (env) => [200, ['Content-Type', 'text/html'], [`<a href="next.html">${env.PATH_INFO}</a>`]];
 * // GET /api/users → "api /api|/users"; GET /api → "api /api|"
 * // GET /docs → 301 Location: /docs/; GET /docs/ → the site with PATH_INFO "/"
 * export default urlMap({ '/api': api, '/docs/': site, 'http://admin.example.com/': site, '/': site });
 * ```
 */
export function urlMap(map: Record<string, App> | Iterable<readonly [string, App]>): App {
  const entries = (Symbol.iterator in map ? [...(map as Iterable<readonly [string, App]>)] : Object.entries(map)).map(
    ([where, app]) => parseLocation(where, app),
  );
  entries.sort((a, b) => (b.host?.length ?? 0) - (a.host?.length ?? 0) || b.location.length - a.location.length);
  const hasHosts = entries.some((e) => e.host !== undefined);

  return function urlMapApp(env: Env) {
    const pathInfo = env.PATH_INFO;
    const scriptName = env.SCRIPT_NAME;
    const host = hasHosts ? requestHost(env) : undefined;
    for (const { host: want, location, directory, app } of entries) {
      if (want !== undefined && want !== host && want !== env.SERVER_NAME.toLowerCase()) continue;
      if (location !== '' && !pathInfo.startsWith(location)) continue;
      const rest = pathInfo.slice(location.length);
      if (rest !== '' && rest.charCodeAt(0) !== 47 /* / */) continue;
      if (rest === '' && directory) return redirectToSlash(env, scriptName + location);
      env.PATH_INFO = rest;
      env.SCRIPT_NAME = scriptName + location;
      return responseCb(app(env), () => {
        env.PATH_INFO = pathInfo;
        env.SCRIPT_NAME = scriptName;
      });
    }
    return [404, ['Content-Type', 'text/plain', 'Content-Length', '9'], ['Not Found']];
  };
}

// The path is built from SCRIPT_NAME (not REQUEST_URI), so it is right under an outer mount
// or a middleware that rewrote the path; collapsing leading slashes keeps it a path, never a
// `//host` reference to another site.
function redirectToSlash(env: Env, path: string): Response {
  const query = env.QUERY_STRING === '' ? '' : `?${env.QUERY_STRING}`;
  const location = `${encodePath(path).replace(/^\/+/, '/')}/${query}`;
  const status = env.REQUEST_METHOD === 'GET' || env.REQUEST_METHOD === 'HEAD' ? 301 : 308;
  const body = statusText(status);
  return [status, ['Location', location, 'Content-Type', 'text/plain', 'Content-Length', String(body.length)], [body]];
}

function parseLocation(where: string, app: App): Entry {
  if (typeof app !== 'function') {
    throw new PlankError(
      'PLANK_ERR_MOUNT_APP',
      `mount(${show(where)}): expected an app (a function), got ${show(app)}`,
    );
  }
  let host: string | undefined;
  let location = where;
  const m = /^https?:\/\/([^/]*)(\/.*)?$/i.exec(where);
  if (m) {
    host = (m[1] as string).toLowerCase();
    location = m[2] ?? '/';
  }
  if (!location.startsWith('/')) {
    throw new PlankError('PLANK_ERR_MOUNT_PATH', `mount(${show(where)}): the path must start with "/"`);
  }
  const path = location.replace(/\/+$/, '');
  return { host, location: path, directory: path !== '' && path !== location, app };
}

// HTTP_HOST without the port when it is the server's own port, as Plack compares it.
function requestHost(env: Env): string | undefined {
  const raw = env.HTTP_HOST;
  if (raw === undefined) return undefined;
  const host = raw.toLowerCase();
  const suffix = `:${env.SERVER_PORT}`;
  return host.endsWith(suffix) ? host.slice(0, -suffix.length) : host;
}
