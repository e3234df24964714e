import { PlankError, type ListenSpec, type RunningServer, type ServerAdapter, type ServerContext } from '@plank/core';
import { boundUrl } from './listen.js';
import { serve, type ServeOptions, type ServerHandle } from './serve.js';

// Command-line names (seconds, as Starlet and Starman take them) → serve() options (ms).
const secondsOptions: Record<string, keyof ServeOptions> = {
  'keepalive-timeout': 'keepAliveTimeout',
  timeout: 'timeout',
  'graceful-timeout': 'gracefulTimeout',
  'headers-timeout': 'headersTimeout',
  'request-timeout': 'requestTimeout',
};

function serveOptions(ctx: ServerContext): Omit<ServeOptions, 'host' | 'port' | 'socket' | 'fd'> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(ctx.options)) {
    const key = secondsOptions[name];
    if (key === undefined) {
      throw new PlankError(
        'PLANK_ERR_SERVER_OPTION',
        `server node: unknown option --${name} (known: ${Object.keys(secondsOptions)
          .map((k) => `--${k}`)
          .join(', ')})`,
      );
    }
    const seconds = typeof value === 'string' ? Number(value) : NaN;
    if (!Number.isFinite(seconds) || seconds < 0 || value === '') {
      throw new PlankError(
        'PLANK_ERR_SERVER_OPTION',
        `server node: --${name} must be a number of seconds >= 0, got ${JSON.stringify(value)}`,
      );
    }
    out[key] = seconds * 1000;
  }
  return out;
}

// What the start-up line says: the address the kernel bound, not the one asked for (#14).
function urlOf(spec: ListenSpec, handle: ServerHandle): string {
  if ('socket' in spec) return `unix:${spec.socket}`;
  if ('fd' in spec) return `fd:${spec.fd} (${boundUrl(handle.server)})`;
  return boundUrl(handle.server);
}

/**
 * `plankup -s node` (the default): one node:http server per listen address, in this process.
 * Options (seconds): `--keepalive-timeout`, `--timeout`, `--graceful-timeout`,
 * `--headers-timeout`, `--request-timeout`.
 */
export const plankServer: ServerAdapter = {
  name: 'node',
  validate(ctx) {
    serveOptions(ctx);
  },
  async run(ctx) {
    if (!ctx.app) throw new PlankError('PLANK_ERR_SERVER_OPTION', 'server node: no app was loaded');
    const base = serveOptions(ctx);
    const handles: ServerHandle[] = [];
    try {
      for (const spec of ctx.listen) handles.push(await serve(ctx.app, { ...base, ...spec, errors: ctx.errors }));
    } catch (err) {
      await Promise.all(handles.map((h) => h.close({ timeout: 0 })));
      throw err;
    }
    let resolveClosed: (code: number) => void = () => {};
    const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
    const running: RunningServer = {
      urls: ctx.listen.map((spec, i) => urlOf(spec, handles[i] as ServerHandle)),
      async close(options) {
        await Promise.all(handles.map((h) => h.close(options)));
        resolveClosed(0);
      },
      closed,
    };
    return running;
  },
};
