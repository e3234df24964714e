import { check, PlankError } from '@plank/core';
import type { ListenSpec, RunningServer, ServerAdapter, ServerContext } from '@plank/core';
import { serverArgs, urlOf } from '@plank/server-node';
import { listenSpecsOf, OPTION_ERROR, serve } from './serve.js';
import type { FastifyServeOptions } from './serve.js';

const where = 'fastify server';

/**
 * Turns plankup's pass-through options into serve() options: server-node's (the timeouts
 * in seconds, as Starlet takes them, `--keepalive-timeout=5`, and `--body-limit` in bytes),
 * and `--enable-logger` for fastify's logger.
 */
export function adapterOptions(args: Record<string, string | boolean>): FastifyServeOptions {
  const { options, rest } = serverArgs(where, OPTION_ERROR, args, { logger: check.boolean });
  return rest.logger === undefined ? options : { ...options, fastify: { logger: rest.logger } };
}

/**
 * What `plankup -s fastify` runs: the app on one fastify instance, listening everywhere
 * plankup was asked to. Options (seconds, as server-node's): `--keepalive-timeout`,
 * `--timeout`, `--graceful-timeout`, `--headers-timeout`, `--request-timeout`; and
 * `--enable-logger` for fastify's own (pino) request log on stdout.
 *
 * @example
 * ```ts
 * import { plankServer } from '@plank/server-fastify';
 * const running = await plankServer.run({
 *   app: () => [200, ['Content-Type', 'text/plain'], ['Hello']], source: undefined,
 *   listen: [{ host: '127.0.0.1', port: 5000 }], options: {}, log: console.log, errors: process.stderr,
 * });
 * await running.close();
 * ```
 */
export const plankServer: ServerAdapter = {
  name: 'fastify',
  validate(ctx: ServerContext): void {
    listenSpecsOf({ ...adapterOptions(ctx.options), listen: ctx.listen });
  },
  async run(ctx: ServerContext): Promise<RunningServer> {
    const options = adapterOptions(ctx.options);
    if (!ctx.app)
      throw new PlankError(
        'PLANK_ERR_FASTIFY_APP',
        'fastify server: no app was loaded (it runs the app in this process)',
      );
    const handle = await serve(ctx.app, { ...options, listen: ctx.listen, errors: ctx.errors });
    let settle: (code: number) => void = () => {};
    const closed = new Promise<number>((resolve) => {
      settle = resolve;
    });
    return {
      urls: handle.servers.map((server, i) => urlOf(server, ctx.listen[i] as ListenSpec).shown),
      closed,
      async close(closeOptions) {
        await handle.close(closeOptions);
        settle(0);
      },
    };
  },
};
