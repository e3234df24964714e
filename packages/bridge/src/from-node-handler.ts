import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, PlankError, show } from '@plank/core';
import { nodePair } from './response.js';

/** A Node request listener: an express or connect app, or any `(req, res)` function. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Runs a Node `(req, res)` handler — a whole express or connect app — as a Plank App, so
 * Plank's middleware wraps it (what Plack::App::WrapCGI does for CGI scripts). The handler gets
 * an `IncomingMessage` built from env and a `ServerResponse` whose output becomes a streaming
 * Plank response: the status, headers and every body byte the handler wrote, as it wrote them,
 * with backpressure. So AccessLog sees the real status, bytes and time to the last byte.
 * `env['plank.node.req']` and `env['plank.node.res']` hold the pair for middleware that needs
 * them. Not carried across: protocol upgrades (`req.socket` is not the connection), trailers,
 * and `1xx` informational responses.
 *
 * @example
 * ```ts
 * import { fromNodeHandler } from '@plank/bridge';
 * import express from 'express';
 *
 * const legacy = express();
 * legacy.get('/hello', (req, res) => res.send('hello from express'));
 * export default fromNodeHandler(legacy);
 * ```
 */
export function fromNodeHandler(handler: NodeHandler): App {
  if (typeof handler !== 'function') {
    throw new PlankError(
      'PLANK_ERR_BRIDGE_HANDLER',
      `fromNodeHandler(): expected a (req, res) function, got ${show(handler)}`,
    );
  }
  return function nodeHandlerApp(env) {
    return (respond) => {
      const { req, res, done, fail } = nodePair(env, respond);
      env['plank.node.req'] = req;
      env['plank.node.res'] = res;
      try {
        handler(req, res);
      } catch (error) {
        fail(error);
      }
      return done;
    };
  };
}
