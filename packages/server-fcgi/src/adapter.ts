import { fstatSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
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

const fcgiSchema = {
  'socket-mode': check.custom('must be an octal file mode such as 0660', (v) =>
    typeof v === 'string' && /^0?[0-7]{3}$/.test(v) ? Number.parseInt(v, 8) : undefined,
  ),
  'max-params-bytes': check.integer({ min: 1024 }),
  'max-connections': check.integer({ min: 1 }),
  'graceful-timeout': check.seconds,
  // FCGI::ProcManager's n_processes, Plack::Handler::FCGI's --nproc: workers under the prefork master.
  nproc: check.integer({ min: 1 }),
};

type FcgiCommandLine = {
  serve: Omit<FcgiServeOptions, 'host' | 'port' | 'socket' | 'fd'>;
  nproc: number | undefined;
  /** The options left for the prefork master with --nproc (--max-reqs-per-child, --spawn-interval, ...). */
  prefork: Record<string, string | boolean>;
};

// Command-line options (plankup passes them as strings), as Plack::Handler::FCGI names them
// where it has a name; with --nproc, the rest are the prefork master's.
function fcgiOptions(ctx: ServerContext): FcgiCommandLine {
  const own: Record<string, string | boolean> = {};
  const prefork: Record<string, string | boolean> = {};
  const withNproc = ctx.options.nproc !== undefined;
  for (const [name, value] of Object.entries(ctx.options)) {
    if (name in fcgiSchema || !withNproc) own[name] = value;
    else prefork[name] = value;
  }
  const o = checkOptions('server fcgi', OPTION_CODE, own, fcgiSchema);
  return {
    serve: {
      socketMode: o['socket-mode'],
      maxParamsBytes: o['max-params-bytes'],
      maxConnections: o['max-connections'],
      gracefulTimeout: o['graceful-timeout'] === undefined ? undefined : o['graceful-timeout'] * 1000,
    },
    nproc: o.nproc,
    prefork,
  };
}

type PreforkPackage = typeof import('@plank/server-prefork');

// The prefork master is an optional peer: a single FastCGI process needs none of it.
async function preforkPackage(): Promise<PreforkPackage> {
  try {
    return (await import('@plank/server-prefork')) as PreforkPackage;
  } catch {
    throw new PlankError(
      OPTION_CODE,
      'server fcgi: --nproc needs @plank/server-prefork, which is not installed: npm install @plank/server-prefork',
    );
  }
}

/**
 * `--nproc N`: N FastCGI workers under the prefork master, the one process manager (signals,
 * backoff, hooks, the workers file and the scoreboard are the master's). The master binds the
 * sockets; each worker serves its inherited descriptors with `serveFcgi`.
 */
async function underPrefork(ctx: ServerContext, options: FcgiCommandLine, specs: ListenSpec[]): Promise<RunningServer> {
  if (ctx.source === undefined)
    throw new PlankError(OPTION_CODE, 'server fcgi: --nproc needs an app source its workers can load');
  const { fromCommandLine, prefork } = await preforkPackage();
  const { socketMode, gracefulTimeout, ...serve } = options.serve;
  const running = await prefork({
    ...fromCommandLine(options.prefork),
    app: ctx.source,
    listen: specs,
    workers: options.nproc,
    log: ctx.log,
    errors: ctx.errors,
    signals: 'control',
    ...(gracefulTimeout === undefined ? {} : { gracefulTimeout }),
    transport: {
      module: new URL('./serve.js', import.meta.url).href,
      export: 'serveFcgi',
      options: serve,
      scheme: 'fcgi',
    },
  });
  // The master made the socket files; their mode is set once, there.
  if (socketMode !== undefined) for (const spec of specs) if ('socket' in spec) await chmod(spec.socket, socketMode);
  return running;
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
 * `-S`, `-o`/`-p`), or on descriptor 0 when a web server started it with its socket there;
 * with `--nproc N`, in N workers under the prefork master. Options: `--socket-mode=0660`,
 * `--max-params-bytes`, `--max-connections`, `--graceful-timeout` (seconds), `--nproc`, and
 * with it the prefork master's own (`--max-reqs-per-child`, `--spawn-interval`, ...).
 */
export const plankServer: ServerAdapter = {
  name: 'fcgi',
  validate(ctx) {
    fcgiOptions(ctx);
  },
  async run(ctx) {
    const options = fcgiOptions(ctx);
    const specs: ListenSpec[] = stdinIsSocket() ? [{ fd: 0 }] : ctx.listen;
    if (options.nproc !== undefined) return underPrefork(ctx, options, specs);
    if (!ctx.app) throw new PlankError(OPTION_CODE, 'server fcgi: no app was loaded');
    const servers: FcgiServer[] = [];
    try {
      for (const spec of specs)
        servers.push(await serveFcgi(ctx.app, { ...options.serve, ...spec, errors: ctx.errors }));
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
