import { fstatSync } from 'node:fs';
import {
  check,
  checkOptions,
  type ListenSpec,
  PlankError,
  type RunningServer,
  type ServerAdapter,
  type ServerContext,
} from '@plank/core';
import { type FcgiServer, type FcgiServeOptions, serveFcgi } from './serve.js';

const OPTION_CODE = 'PLANK_ERR_SERVER_FCGI_OPTION';

// Command-line options (plankup passes them as strings), as Plack::Handler::FCGI names them
// where it has a name.
function fcgiOptions(ctx: ServerContext): Omit<FcgiServeOptions, 'host' | 'port' | 'socket' | 'fd'> {
  const o = checkOptions('server fcgi', OPTION_CODE, ctx.options, {
    'socket-mode': check.custom('must be an octal file mode such as 0660', (v) =>
      typeof v === 'string' && /^0?[0-7]{3}$/.test(v) ? Number.parseInt(v, 8) : undefined,
    ),
    'max-params-bytes': check.integer({ min: 1024 }),
    'max-connections': check.integer({ min: 1 }),
    'graceful-timeout': check.seconds,
  });
  return {
    socketMode: o['socket-mode'],
    maxParamsBytes: o['max-params-bytes'],
    maxConnections: o['max-connections'],
    gracefulTimeout: o['graceful-timeout'] === undefined ? undefined : o['graceful-timeout'] * 1000,
  };
}

/**
 * True when descriptor 0 is a socket: spawn-fcgi, mod_fcgid and mod_fastcgi start a FastCGI
 * application with its listening socket there (FCGI_LISTENSOCK_FILENO), and plankup's own
 * default address must then give way, as Plack::Handler::FCGI lets it.
 */
export function stdinIsSocket(): boolean {
  try {
    return fstatSync(0).isSocket();
  } catch {
    return false;
  }
}

/**
 * `plankup -s fcgi`: the app over FastCGI in this process, on each listen address (`-l`,
 * `-S`, `-o`/`-p`), or on descriptor 0 when a web server started it with its socket there.
 * Options: `--socket-mode=0660`, `--max-params-bytes`, `--max-connections`,
 * `--graceful-timeout` (seconds).
 */
export const plankServer: ServerAdapter = {
  name: 'fcgi',
  validate(ctx) {
    fcgiOptions(ctx);
  },
  async run(ctx) {
    if (!ctx.app) throw new PlankError(OPTION_CODE, 'server fcgi: no app was loaded');
    const base = fcgiOptions(ctx);
    const specs: ListenSpec[] = stdinIsSocket() ? [{ fd: 0 }] : ctx.listen;
    const servers: FcgiServer[] = [];
    try {
      for (const spec of specs) servers.push(await serveFcgi(ctx.app, { ...base, ...spec, errors: ctx.errors }));
    } catch (error) {
      await Promise.all(servers.map((s) => s.close({ timeout: 0 })));
      throw error;
    }
    let resolveClosed: (code: number) => void = () => {};
    const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
    const running: RunningServer = {
      urls: servers.map((s) => s.url),
      async close(options) {
        await Promise.all(servers.map((s) => s.close(options)));
        resolveClosed(0);
      },
      closed,
    };
    return running;
  },
};
