import { PlankError, show } from './errors.js';
import { responseCb } from './response-cb.js';
import type { App, Env } from './types.js';

type Entry = { host: string | undefined; location: string; app: App };

/**
 * Dispatches to several apps by host and path prefix (Plack::App::URLMap). The longest
 * host, then the longest path wins; a prefix only matches on a `/` boundary (`/foo` serves
 * `/foo` and `/foo/bar`, never `/foobar`); paths compare case-sensitively, hosts do not.
 * The matched prefix moves from PATH_INFO to SCRIPT_NAME for the app and is restored when
 * its response arrives. Nothing matching gives `404 Not Found`.
 *
 * @example
 * ```ts
 * import { urlMap } from '@plank/core';
 * export default urlMap({ '/api': apiApp, 'http://admin.example.com/': adminApp, '/': siteApp });
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
    for (const { host: want, location, app } of entries) {
      if (want !== undefined && want !== host && want !== env.SERVER_NAME.toLowerCase()) continue;
      if (location !== '' && !pathInfo.startsWith(location)) continue;
      const rest = pathInfo.slice(location.length);
      if (rest !== '' && rest.charCodeAt(0) !== 47 /* / */) continue;
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
  return { host, location: location.replace(/\/+$/, ''), app };
}

// HTTP_HOST without the port when it is the server's own port, as Plack compares it.
function requestHost(env: Env): string | undefined {
  const raw = env.HTTP_HOST;
  if (raw === undefined) return undefined;
  const host = raw.toLowerCase();
  const suffix = `:${env.SERVER_PORT}`;
  return host.endsWith(suffix) ? host.slice(0, -suffix.length) : host;
}
