import { type Check, check, checkOptions, type ListenSpec, PlankError, show } from '@plank/core';
import type { HttpServerOptions } from './server.js';

// The option rules every server on node:http shares (server-node, server-fastify): one
// schema for the server construction's options, one for listen specs, one for what plankup
// passes through (seconds, as Starlet and Starman take them), each read once at start.

/** server-node's error code for every bad option, by the rule PLANK_ERR_<PACKAGE>_OPTION. */
export const OPTION_ERROR = 'PLANK_ERR_SERVER_NODE_OPTION';

const number = check.number({ min: 0 });
/** Milliseconds, as the options of `serve()` take them (plankup's seconds are turned into these). */
export const msCheck: Check<number> = check.custom('must be a number of milliseconds >= 0', (v) => number.parse(v));
const ms = msCheck;

/** The checks of {@link HttpServerOptions}, by option name. */
export type HttpServerChecks = {
  readonly errors: Check<NonNullable<HttpServerOptions['errors']>>;
  readonly keepAliveTimeout: Check<number>;
  readonly headersTimeout: Check<number>;
  readonly requestTimeout: Check<number>;
  readonly timeout: Check<number>;
  readonly bodyLimit: Check<number>;
};

/** The checks of {@link HttpServerOptions}, for servers that build on `createHttpServer`. */
export const httpServerChecks: HttpServerChecks = {
  errors: check.custom('must have a write(string) method', (v) =>
    typeof (v as { write?: unknown } | null)?.write === 'function'
      ? (v as NonNullable<HttpServerOptions['errors']>)
      : undefined,
  ),
  keepAliveTimeout: ms,
  headersTimeout: ms,
  requestTimeout: ms,
  timeout: ms,
  bodyLimit: check.integer({ min: 0 }),
};

const host: Check<string> = check.custom('must be a non-empty string', (v) =>
  typeof v === 'string' && v !== '' ? v : undefined,
);
const port: Check<number> = check.integer({ min: 0, max: 65535 });
const fd: Check<number> = check.integer({ min: 0 });

/** One listen spec: `{ host?, port }`, `{ socket }` or `{ fd }`, as `plankup -l` gives them. */
export const listenSpecCheck: Check<ListenSpec> = check.custom(
  'must be { host?, port }, { socket } or { fd }',
  (v): ListenSpec | undefined => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const s = v as Record<string, unknown>;
    const keys = Object.keys(s).filter((k) => s[k] !== undefined);
    if (keys.length === 1 && keys[0] === 'fd') return fd.parse(s.fd) === undefined ? undefined : { fd: s.fd as number };
    if (keys.length === 1 && keys[0] === 'socket')
      return check.path.parse(s.socket) === undefined ? undefined : { socket: s.socket as string };
    if (keys.every((k) => k === 'host' || k === 'port') && port.parse(s.port) !== undefined) {
      if (s.host !== undefined && host.parse(s.host) === undefined) return undefined;
      return s.host === undefined ? { port: s.port as number } : { host: s.host as string, port: s.port as number };
    }
    return undefined;
  },
);

/** The checks of the listen options, by option name. */
export type ListenChecks = {
  readonly host: Check<string>;
  readonly port: Check<number>;
  readonly socket: Check<string>;
  readonly fd: Check<number>;
  readonly listen: Check<ListenSpec[]>;
};

/** The listen options of `serve()`: one address (`host`/`port`, `socket`, `fd`) or a list. */
export const listenChecks: ListenChecks = {
  host: host,
  port: port,
  socket: check.path,
  fd: fd,
  listen: check.custom(
    'must be a non-empty array of listen specs ({ host?, port }, { socket } or { fd })',
    (v): ListenSpec[] | undefined => {
      if (!Array.isArray(v) || v.length === 0) return undefined;
      const specs = v.map((s) => listenSpecCheck.parse(s));
      return specs.some((s) => s === undefined) ? undefined : (specs as ListenSpec[]);
    },
  ),
};

type ListenOptions = { host?: string; port?: number; socket?: string; fd?: number; listen?: ListenSpec[] };

/** The places to listen that checked listen options give: exactly one way of saying it, port 5000 by default. */
export function listenSpecsOf(o: ListenOptions, where: string, code: string): ListenSpec[] {
  const { host: h, port: p, socket, fd: f, listen } = o;
  if ([listen, socket, f, p ?? h].filter((v) => v !== undefined).length > 1)
    throw new PlankError(
      code,
      `${where}: give one of "port"/"host", "socket", "fd" or "listen", got ${show({ port: p, host: h, socket, fd: f, listen })}`,
    );
  if (listen !== undefined) return listen;
  if (socket !== undefined) return [{ socket }];
  if (f !== undefined) return [{ fd: f }];
  return [h === undefined ? { port: p ?? 5000 } : { host: h, port: p ?? 5000 }];
}

/** What plankup passes through to every server on node:http, and the `serve()` option each sets. */
const commandLine = {
  'keepalive-timeout': ['keepAliveTimeout', check.seconds],
  'headers-timeout': ['headersTimeout', check.seconds],
  'request-timeout': ['requestTimeout', check.seconds],
  timeout: ['timeout', check.seconds],
  'graceful-timeout': ['gracefulTimeout', check.seconds],
  'body-limit': ['bodyLimit', check.integer({ min: 0 })],
} as const;

type CommandLineOptions = HttpServerOptions & { gracefulTimeout?: number };

/**
 * Reads plankup's pass-through options for a server on node:http: the timeouts in seconds
 * (`--keepalive-timeout=5`, `--headers-timeout`, `--request-timeout`, `--timeout`,
 * `--graceful-timeout`), turned into ms, and `--body-limit` in bytes. `extra` adds a
 * server's own options (checked too, returned under `rest`).
 *
 * @example
 * ```ts
 * import { serverArgs } from '@plank/server-node';
 * const { options } = serverArgs('server node', 'PLANK_ERR_SERVER_NODE_OPTION', { timeout: '2.5' });
 * // options.timeout === 2500
 * ```
 */
export function serverArgs<E extends Record<string, Check<unknown>> = Record<never, never>>(
  where: string,
  code: string,
  args: Record<string, string | boolean>,
  extra?: E,
): { options: CommandLineOptions; rest: { [K in keyof E]?: E[K] extends Check<infer T> ? T : never } } {
  const schema: Record<string, Check<unknown>> = { ...extra };
  for (const [name, [, rule]] of Object.entries(commandLine)) schema[name] = rule;
  let checked: Record<string, unknown>;
  try {
    checked = checkOptions(where, code, args, schema);
  } catch (err) {
    // Named as they were written: `option --keepalive-timeout must be ...`.
    if (err instanceof PlankError)
      throw new PlankError(err.code, err.message.replace(/option "([^"]+)"/, 'option --$1'));
    throw err;
  }
  const options: Record<string, number> = {};
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(checked)) {
    const known = commandLine[name as keyof typeof commandLine];
    if (known === undefined) rest[name] = value;
    else options[known[0]] = known[0] === 'bodyLimit' ? (value as number) : (value as number) * 1000;
  }
  return { options, rest: rest as { [K in keyof E]?: E[K] extends Check<infer T> ? T : never } };
}
