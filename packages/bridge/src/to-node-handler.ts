import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, PlankError, show } from '@plank/core';
import { createHandler, type HandlerOptions, percentDecode } from '@plank/server-node';

// The mount point express or connect stripped from req.url, by request (psgi.input is req).
const mountPoints = new WeakMap<object, string>();

/**
 * A Plank app as a Node `(req, res)` handler, for express (`app.use('/plank', handler)`),
 * connect, koa (`ctx.respond = false`, then the handler) and Hono's node server (the
 * `incoming`/`outgoing` pair). It is server-node's own request handler, so env and responses
 * are exactly what `plankup` gives; the one addition is that a mount point express or connect
 * stripped from `req.url` (their `req.baseUrl`) becomes `SCRIPT_NAME`, so the app's links and
 * redirects stay right.
 *
 * @example
 * ```ts
 * import { toNodeHandler } from '@plank/bridge';
 * import express from 'express';
 *
 * const site = express();
 * site.use('/plank', toNodeHandler((env) => [200, ['Content-Type', 'text/plain'], [`${env.SCRIPT_NAME}|${env.PATH_INFO}`]]));
 * site.listen(3000);
 * ```
 */
export function toNodeHandler(app: App, options?: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  if (typeof app !== 'function') {
    throw new PlankError('PLANK_ERR_BRIDGE_HANDLER', `toNodeHandler(): expected a Plank app, got ${show(app)}`);
  }
  const handler = createHandler(function mountedApp(env) {
    const base = mountPoints.get(env['psgi.input']);
    if (base !== undefined && base !== '') env.SCRIPT_NAME = base;
    return app(env);
  }, options);
  return function plankHandler(req, res) {
    const base = mountPoint(req);
    if (base !== '') mountPoints.set(req, percentDecode(base));
    handler(req, res);
  };
}

// express says where it mounted the handler (`req.baseUrl`); connect only keeps the URL it
// received (`req.originalUrl`) beside the one it stripped the mount point from (`req.url`,
// which gets a leading `/` when the mount point was the whole path).
function mountPoint(req: IncomingMessage & { baseUrl?: unknown; originalUrl?: unknown }): string {
  if (typeof req.baseUrl === 'string') return req.baseUrl;
  if (typeof req.originalUrl !== 'string' || req.originalUrl === req.url) return '';
  const original = pathOf(req.originalUrl);
  const rest = pathOf(req.url ?? '/');
  if (original.endsWith(rest)) return original.slice(0, original.length - rest.length);
  return rest === '/' ? original : '';
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
