import type { Server } from 'node:http';
import { PlankError, show } from '@plank/core';
import type { ListenSpec, RunningServer, ServerAdapter, ServerContext } from '@plank/core';
import { boundUrl } from '@plank/server-node';
import { listenSpecsOf, serve } from './serve.js';
import type { FastifyServeOptions } from './serve.js';

const seconds = {
  'keepalive-timeout': 'keepAliveTimeout',
  'headers-timeout': 'headersTimeout',
  'request-timeout': 'requestTimeout',
  timeout: 'timeout',
  'graceful-timeout': 'gracefulTimeout',
} as const;

// The option as it was written on the command line.
function given(name: string, value: string | boolean): string {
  return typeof value === 'boolean' ? `--${value ? 'enable' : 'disable'}-${name}` : `--${name}=${value}`;
}

function optionFail(name: string, value: string | boolean, expected: string): PlankError {
  return new PlankError(
    'PLANK_ERR_SERVER_OPTION',
    `fastify server: option ${given(name, value)} ${expected}, got ${show(value)}`,
  );
}

/**
 * Turns plankup's pass-through options into serve() options: the timeouts in seconds, as
 * Starlet takes them (`--keepalive-timeout=5`), and `--enable-logger` for fastify's logger.
 */
export function adapterOptions(options: Record<string, string | boolean>): FastifyServeOptions {
  const out: FastifyServeOptions = {};
  for (const [name, value] of Object.entries(options)) {
    if (Object.hasOwn(seconds, name)) {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n) || n < 0) throw optionFail(name, value, 'must be a number of seconds >= 0');
      out[seconds[name as keyof typeof seconds]] = n * 1000;
    } else if (name === 'logger') {
      if (typeof value !== 'boolean')
        throw optionFail(name, value, 'takes no value (use --enable-logger or --disable-logger)');
      out.fastify = { logger: value };
    } else {
      const known = [...Object.keys(seconds).map((k) => `--${k}`), '--enable-logger'].join(', ');
      throw new PlankError(
        'PLANK_ERR_SERVER_OPTION',
        `fastify server: unknown option ${given(name, value)} (known: ${known})`,
      );
    }
  }
  return out;
}

// What the start-up line says: the address the kernel bound, not the one asked for (#14).
function urlOf(spec: ListenSpec, server: Server): string {
  if ('socket' in spec) return `unix:${spec.socket}`;
  if ('fd' in spec) return `fd:${spec.fd} (${boundUrl(server)})`;
  return boundUrl(server);
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
      urls: ctx.listen.map((spec, i) => urlOf(spec, handle.servers[i] as Server)),
      closed,
      async close(closeOptions) {
        await handle.close(closeOptions);
        settle(0);
      },
    };
  },
};
