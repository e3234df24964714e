import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type App,
  type AppResult,
  type Body,
  bodyChunks,
  type Headers,
  type Middleware,
  PlankError,
  show,
} from '@plank/core';
import { nodePair } from './response.js';

/** Connect-style middleware: helmet, cors, compression and the like. */
// Declared as a method so that middleware typed for express's richer req/res (compression's
// RequestHandler) is accepted too: method parameters are checked bivariantly.
export type ConnectMiddleware = {
  handle(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): unknown;
}['handle'];

/**
 * Uses connect-style middleware (`(req, res, next)`) as a Plank middleware. The middleware runs
 * on a `req`/`res` pair built from env; when it calls `next()`, the Plank app behind it runs and
 * its response is written into that same `res`, so everything the middleware did to `res` applies
 * to it: headers it set (helmet, cors), `res.write`/`res.end` it wrapped (compression), and the
 * response it sent itself without calling `next()` (a CORS preflight). The result comes back as
 * a streaming Plank response.
 *
 * What cannot cross is refused, with a `PlankError`, instead of misbehaving silently: a
 * middleware that rewrites `req.url` or `req.method` before `next()` (the Plank app routes on
 * env, which it cannot see change: `PLANK_ERR_BRIDGE_REWRITE`), or that read the request body
 * before `next()` (the Plank app could not read it again: `PLANK_ERR_BRIDGE_BODY_READ`).
 * `next(error)` fails the request with that error, as express would give a 500.
 *
 * @example
 * ```ts
 * import { builder } from '@plank/core';
 * import { fromConnect } from '@plank/bridge';
 * import helmet from 'helmet';
 *
 * export default builder(({ enable }) => {
 *   enable(fromConnect(helmet()));
 *   return () => [200, ['Content-Type', 'text/plain'], ['protected']];
 * });
 * ```
 */
export function fromConnect(middleware: ConnectMiddleware): Middleware {
  if (typeof middleware !== 'function') {
    throw new PlankError(
      'PLANK_ERR_BRIDGE_HANDLER',
      `fromConnect(): expected a (req, res, next) function, got ${show(middleware)}`,
    );
  }
  const name = middleware.name || 'middleware';
  return (app) =>
    function connectApp(env) {
      return (respond) => {
        const { req, res, done, fail } = nodePair(env, respond);
        const url = req.url;
        const method = req.method;
        let called = false;
        const next = (error?: unknown) => {
          if (called) return;
          called = true;
          if (error !== undefined && error !== null) return fail(error);
          if (req.url !== url || req.method !== method) {
            return fail(
              new PlankError(
                'PLANK_ERR_BRIDGE_REWRITE',
                `connect middleware ${name} changed the request (${method} ${url} -> ${req.method} ${req.url}); a Plank app behind it cannot see that`,
              ),
            );
          }
          if (req.readableDidRead) {
            return fail(
              new PlankError(
                'PLANK_ERR_BRIDGE_BODY_READ',
                `connect middleware ${name} read the request body before next(); the Plank app behind it cannot read it again`,
              ),
            );
          }
          writeInto(res, app(env)).catch(fail);
        };
        env['plank.node.req'] = req;
        env['plank.node.res'] = res;
        try {
          middleware(req, res, next);
        } catch (error) {
          fail(error);
        }
        return done;
      };
    };
}

// Writes a Plank response into a Node response, with backpressure: the connect middleware's
// wrappers around res see exactly what a Node handler would have written.
async function writeInto(res: ServerResponse, result: ReturnType<App>): Promise<void> {
  const resolved: AppResult = await result;
  if (typeof resolved === 'function') {
    let ended: Promise<void> = Promise.resolve();
    await resolved((head) => {
      const [status, headers] = head;
      writeHead(res, status, headers);
      if (head.length === 3) {
        ended = writeBody(res, head[2]);
        return { write: () => Promise.resolve(), close: () => ended, aborted: false };
      }
      return {
        write: (chunk) => write(res, chunk),
        close: () => end(res),
        get aborted() {
          return res.destroyed;
        },
      };
    });
    return ended;
  }
  const [status, headers, body] = resolved;
  writeHead(res, status, headers);
  return writeBody(res, body);
}

function writeHead(res: ServerResponse, status: number, headers: Headers): void {
  res.statusCode = status;
  const grouped = new Map<string, string[]>();
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const key = name.toLowerCase();
    const values = grouped.get(key);
    if (values) values.push(headers[i + 1] as string);
    else grouped.set(key, [headers[i + 1] as string]);
  }
  for (const [name, values] of grouped) res.setHeader(name, values.length === 1 ? (values[0] as string) : values);
}

async function writeBody(res: ServerResponse, body: Body): Promise<void> {
  for await (const chunk of bodyChunks(body)) await write(res, chunk);
  await end(res);
}

function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('client went away'));
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    res.once('drain', resolve);
    res.once('close', () => reject(new Error('client went away')));
  });
}

// res.end() without a callback: wrappers such as compression's take (chunk, encoding) only.
function end(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    res.end();
  });
}
