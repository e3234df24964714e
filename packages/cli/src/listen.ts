import { PlankError, type ListenSpec } from '@plank/core';

/**
 * Turns -o/-p/-S/-l into listen specs as Plack::Runner does: every `-l` that ends in
 * `:PORT` is TCP (`HOST:PORT`, `:PORT`, `[::1]:PORT`), anything else a unix socket path;
 * without `-l`, the socket from `-S`, else HOST:PORT from `-o`/`-p` (port 5000, all
 * interfaces, as plackup).
 */
export function listenSpecs(opts: {
  host?: string | undefined;
  port?: number | undefined;
  socket?: string | undefined;
  listen: string[];
}): ListenSpec[] {
  const specs: ListenSpec[] = opts.listen.map(parseListen);
  if (opts.socket !== undefined && !specs.some((s) => 'socket' in s && s.socket === opts.socket))
    specs.push({ socket: opts.socket });
  if (specs.length === 0)
    specs.push(opts.host ? { host: opts.host, port: opts.port ?? 5000 } : { port: opts.port ?? 5000 });
  return specs;
}

function parseListen(value: string): ListenSpec {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  if (!m) {
    if (value.includes(':') && !value.includes('/'))
      throw new PlankError(
        'PLANK_ERR_CLI_OPTION',
        `-l ${JSON.stringify(value)}: expected HOST:PORT, :PORT or a socket path`,
      );
    return { socket: value };
  }
  const port = Number(m[3]);
  if (port > 65535) throw new PlankError('PLANK_ERR_CLI_OPTION', `-l ${JSON.stringify(value)}: port out of range`);
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}
