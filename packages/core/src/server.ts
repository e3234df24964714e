import type { App, ErrorStream } from './types.js';

/** Where a server listens: a TCP host/port, a unix socket path, or an inherited descriptor. */
export type ListenSpec = { host?: string; port: number } | { socket: string } | { fd: number };

/**
 * How to load the app in a process of its own (prefork workers load it after they start).
 * Without `export`, the module's default export is the app (or a promise of it). With
 * `export`, that export is a loader called with `args` that returns the app.
 */
export type AppSource = { module: string; export?: string; args?: unknown; execArgv?: string[] };

/** What plankup hands a server (Plack::Handler's constructor arguments, plus the app). */
export type ServerContext = {
  /** The app, already loaded in this process; servers that load it elsewhere use `source`. */
  app: App | undefined;
  source: AppSource | undefined;
  listen: ListenSpec[];
  /**
   * Server-specific options as given on the command line: `--max-workers=4` → `'max-workers': '4'`,
   * `--enable-foo` → `foo: true`, `--disable-foo` → `foo: false`. A server rejects names it
   * does not know (`PLANK_ERR_SERVER_OPTION`) and values it cannot use.
   */
  options: Record<string, string | boolean>;
  /** One line of operational news (listening, worker start/exit) for the console. */
  log: (line: string) => void;
  errors: ErrorStream;
};

export type RunningServer = {
  /** Where it listens, as URLs (`http://127.0.0.1:5000/`, `unix:/path`). */
  urls: string[];
  /** Graceful stop: stop accepting, let in-flight requests finish, then force after `timeout` ms. */
  close(options?: { timeout?: number }): Promise<void>;
  /** Settles when the server has stopped by itself or through close(); the value is an exit code. */
  closed: Promise<number>;
};

/** What a server package exports as `plankServer`, so `plankup -s <name>` can run it. */
export type ServerAdapter = {
  name: string;
  /** True when the server loads the app in other processes from `source` (prefork). */
  loadsApp?: boolean;
  /** Checks `ctx.options` (and the listen specs) without binding anything, for `plankup --check`; throws on a bad one. */
  validate?(ctx: ServerContext): void;
  run(ctx: ServerContext): Promise<RunningServer>;
};

/**
 * What a server reports when it answers a request itself, without the app: node's own
 * replies to requests it cannot parse (400), that come too slowly (408) or whose headers are
 * too large (431), and a server's own checks (400 for a bad or repeated Host, 413 for a body
 * over its limit, 501 for CONNECT). Servers publish it on {@link CLIENT_ERROR_CHANNEL}.
 */
export type ClientErrorReport = {
  /** The status sent, or that would have been sent had the connection still been writable. */
  status: number;
  /** Why: node's parser code (`HPE_INVALID_METHOD`, `ERR_HTTP_REQUEST_TIMEOUT`, ...) or Plank's (`PLANK_ERR_HOST`, ...). */
  code: string;
  /** One line saying what was wrong. */
  message: string;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Method and target, when the request line could be read. */
  method: string | undefined;
  url: string | undefined;
  /** When the server answered. */
  time: Date;
};

/**
 * The `node:diagnostics_channel` name servers publish a {@link ClientErrorReport} on: how an
 * access log (or anything else) sees the requests the app never saw. A contract between
 * servers and middleware, so it lives here, beside the server types.
 */
export const CLIENT_ERROR_CHANNEL = 'plank:server:client-error';
