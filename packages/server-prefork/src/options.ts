import { availableParallelism } from 'node:os';
import { check, checkOptions, optionError, PlankError } from '@plank/core';
import type { AppSource, ErrorStream, ListenSpec } from '@plank/core';
import { WORKERS_FILE_ENV } from '@plank/scoreboard';
import { httpServerChecks, listenChecks, msCheck } from '@plank/server-node';
import { poolCliSchema, poolCliTarget, type PoolOptions, poolPolicy, poolSchema } from './pool-options.js';
import type { PoolPolicy } from './pool.js';

/** Options of {@link prefork}. Durations are milliseconds here; on the command line they are seconds, as in Starlet. */
export type PreforkOptions = PoolOptions & {
  /** Where each worker loads the app from, after it starts. */
  app: AppSource;
  /** Where to listen; ignored when `SERVER_STARTER_PORT` is set. @default [{ port: 5000 }] (all interfaces) */
  listen?: ListenSpec[];
  /** Number of workers (`--max-workers`, Starman's `--workers`). @default os.availableParallelism() */
  workers?: number;
  /** A worker retires after this many requests; 0 never (`--max-reqs-per-child`, `--max-requests`). @default 0 */
  maxReqsPerChild?: number;
  /** With `maxReqsPerChild`, each worker picks its limit at random in [min, max]. @default maxReqsPerChild */
  minReqsPerChild?: number;
  /** Pause between two worker starts, and between two retirements on HUP/USR1 (rolling restart). @default 0 */
  spawnInterval?: number;
  /** Idle time before a keep-alive connection is closed. @default 5000 */
  keepAliveTimeout?: number;
  /** Requests per keep-alive connection; 0 unlimited, 1 turns keep-alive off. @default 0 */
  maxKeepAliveReqs?: number;
  /** A connection with no traffic either way for this long is closed. @default 300000 (Starlet's 300 s) */
  timeout?: number;
  /** How long a stopping worker may finish its requests before its connections are cut. @default 30000 */
  gracefulTimeout?: number;
  /**
   * A worker not ready this long after it was forked (loading the app, running its start
   * hooks) is killed and counts as a failed start (with the backoff); 0 waits forever.
   * @default 60000 (Passenger's PassengerStartTimeout is 90 s, systemd's TimeoutStartSec 90 s)
   */
  startupTimeout?: number;
  /** Write the master's pid to this file while it runs. */
  pidFile?: string;
  /**
   * The file where the master keeps its list of live workers (JSON, replaced atomically on every
   * change) and that workers find in `PLANK_PREFORK_WORKERS`, so a scoreboard lists idle workers
   * without `ps`. @default `$PLANK_PREFORK_WORKERS`, else a file in a fresh temporary directory
   */
  workersFile?: string;
  /** Operational lines (listening, worker start/exit, signals). @default a line on stderr */
  log?: (line: string) => void;
  /** Where the master reports worker errors. @default process.stderr */
  errors?: ErrorStream;
  /**
   * Which signals the master handles itself: `true` all of TERM, INT, HUP, USR1, TTIN and TTOU;
   * `'control'` all but TERM and INT (the caller stops the server through `close()`); `false` none.
   * @default true
   */
  signals?: boolean | 'control';
  /** The environment read for `SERVER_STARTER_PORT` / `SERVER_STARTER_GENERATION`. @default process.env */
  env?: Record<string, string | undefined>;
  /**
   * The server each worker runs on the shared sockets, by module: HTTP (server-node's `serve`)
   * unless another transport is named, such as `@plank/server-fcgi`'s FastCGI. Everything else
   * (signals, backoff, hooks, the workers file, the scoreboard) stays the master's.
   * @default server-node's HTTP server
   */
  transport?: WorkerTransport;
};

/**
 * A worker's server other than HTTP: `module` (a URL or path a worker can import) exports
 * `export`, a function `(app, { fd, multiprocess, harakiri, gracefulTimeout, ...options })`
 * that serves on the inherited descriptor and resolves with `{ server, close(options?) }`.
 */
export type WorkerTransport = {
  module: string;
  export: string;
  options?: Record<string, unknown>;
  /** The URL scheme of its addresses in start-up lines (`fcgi`). @default 'http' */
  scheme?: string;
};

/** Every option with its default applied, as the master uses them. */
export type Settings = Required<
  Omit<PreforkOptions, keyof PoolOptions | 'listen' | 'pidFile' | 'workersFile' | 'env' | 'transport'>
> & {
  listen: ListenSpec[];
  /** The adaptive pool's policy; undefined for a fixed pool of `workers`. */
  pool: PoolPolicy | undefined;
  backlog: number | undefined;
  pidFile: string | undefined;
  workersFile: string | undefined;
  env: Record<string, string | undefined>;
  transport: WorkerTransport | undefined;
};

/** Every bad option of this package, `prefork()`'s and the command line's (`--max-workers=0`). */
export const OPTION_CODE = 'PLANK_ERR_SERVER_PREFORK_OPTION';

// The checks every server on node:http shares (server-node's), then prefork's own.
const ms = msCheck;
// node's server timers take at most 2^31-1 ms; beyond that they fire at once.
const seconds = check.custom('must be a number of seconds from 0 to 2147483', (v) => {
  const n = check.seconds.parse(v);
  return n !== undefined && n <= 2_147_483 ? Math.round(n * 1000) : undefined;
});

const appSource = check.custom(
  'must be an AppSource { module, export?, args?, execArgv? } (module a non-empty string, export a non-empty string, execArgv an array of strings)',
  (v) => {
    const a = v as AppSource | null;
    if (typeof a !== 'object' || a === null || check.path.parse(a.module) === undefined) return undefined;
    if (a.export !== undefined && (typeof a.export !== 'string' || a.export === '')) return undefined;
    if (a.execArgv !== undefined && check.array(check.string).parse(a.execArgv) === undefined) return undefined;
    return a;
  },
);

const schema = {
  app: appSource,
  listen: listenChecks.listen,
  workers: check.integer({ min: 1 }),
  maxReqsPerChild: check.integer({ min: 0 }),
  minReqsPerChild: check.integer({ min: 0 }),
  spawnInterval: ms,
  keepAliveTimeout: ms,
  maxKeepAliveReqs: check.integer({ min: 0 }),
  timeout: ms,
  gracefulTimeout: ms,
  startupTimeout: ms,
  pidFile: check.path,
  workersFile: check.path,
  log: check.function,
  errors: httpServerChecks.errors,
  signals: check.oneOf(true, false, 'control'),
  env: check.custom('must be an object of strings', (v) =>
    typeof v === 'object' && v !== null ? (v as Record<string, string | undefined>) : undefined,
  ),
  transport: check.custom(
    'must be { module, export, options?, scheme? } (module and export non-empty strings, scheme a URL scheme)',
    (v) => {
      const t = v as WorkerTransport | null;
      if (typeof t !== 'object' || t === null || check.path.parse(t.module) === undefined) return undefined;
      if (typeof t.export !== 'string' || t.export === '') return undefined;
      if (t.scheme !== undefined && (typeof t.scheme !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(t.scheme)))
        return undefined;
      return t.options === undefined || (typeof t.options === 'object' && t.options !== null) ? t : undefined;
    },
  ),
  ...poolSchema,
};

/** Validates {@link PreforkOptions} once and fills in the defaults; throws `PLANK_ERR_SERVER_PREFORK_OPTION`. */
export function settings(options: PreforkOptions): Settings {
  const where = 'prefork()';
  const o = checkOptions(where, OPTION_CODE, options, schema);
  if (o.app === undefined)
    throw optionError(OPTION_CODE, where, 'app', undefined, 'is required: an AppSource { module }');
  const max = o.maxReqsPerChild ?? 0;
  const min = o.minReqsPerChild ?? max;
  if (o.minReqsPerChild !== undefined && (max === 0 || min > max)) {
    throw optionError(
      OPTION_CODE,
      where,
      'minReqsPerChild',
      min,
      `must be at most maxReqsPerChild (${max}), which must be set`,
    );
  }
  const env = o.env ?? process.env;
  const errors = o.errors ?? process.stderr;
  const workers = o.workers ?? availableParallelism();
  return {
    app: o.app,
    listen: o.listen ?? [{ port: 5000 }],
    workers,
    pool: poolPolicy(OPTION_CODE, where, o, workers),
    backlog: o.backlog,
    maxReqsPerChild: max,
    minReqsPerChild: min,
    spawnInterval: o.spawnInterval ?? 0,
    keepAliveTimeout: o.keepAliveTimeout ?? 5_000,
    maxKeepAliveReqs: o.maxKeepAliveReqs ?? 0,
    timeout: o.timeout ?? 300_000,
    gracefulTimeout: o.gracefulTimeout ?? 30_000,
    startupTimeout: o.startupTimeout ?? 60_000,
    pidFile: o.pidFile,
    workersFile: o.workersFile ?? env[WORKERS_FILE_ENV],
    log: o.log ?? ((line: string) => void errors.write(`${line}\n`)),
    errors,
    signals: o.signals ?? true,
    env,
    transport: o.transport,
  };
}

// Command-line names (Starlet's, with Starman's aliases), each read once into the option it sets:
// counts as integers, durations as seconds (turned into the milliseconds prefork() takes).
const count = check.integer({ min: 0 });
const cliSchema = {
  'max-workers': check.integer({ min: 1 }),
  workers: check.integer({ min: 1 }),
  'max-reqs-per-child': count,
  'max-requests': count,
  'min-reqs-per-child': count,
  'spawn-interval': seconds,
  'keepalive-timeout': seconds,
  'max-keepalive-reqs': count,
  // --enable-keepalive / --disable-keepalive (Starman): off is one request per connection.
  keepalive: check.boolean,
  timeout: seconds,
  'graceful-timeout': seconds,
  'startup-timeout': seconds,
  'pid-file': check.path,
  pid: check.path,
  'workers-file': check.path,
  ...poolCliSchema,
};
const cliTarget: Record<keyof typeof cliSchema, keyof PreforkOptions> = {
  ...poolCliTarget,
  'max-workers': 'workers',
  workers: 'workers',
  'max-reqs-per-child': 'maxReqsPerChild',
  'max-requests': 'maxReqsPerChild',
  'min-reqs-per-child': 'minReqsPerChild',
  'spawn-interval': 'spawnInterval',
  'keepalive-timeout': 'keepAliveTimeout',
  'max-keepalive-reqs': 'maxKeepAliveReqs',
  keepalive: 'maxKeepAliveReqs',
  timeout: 'timeout',
  'graceful-timeout': 'gracefulTimeout',
  'startup-timeout': 'startupTimeout',
  'pid-file': 'pidFile',
  pid: 'pidFile',
  'workers-file': 'workersFile',
};

/**
 * Reads the pass-through options plankup hands a server (`--max-workers=4` → `{ 'max-workers': '4' }`)
 * into {@link PreforkOptions}; throws `PLANK_ERR_SERVER_PREFORK_OPTION` naming the option and value.
 */
export function fromCommandLine(options: Record<string, string | boolean>): Partial<PreforkOptions> {
  const o = checkOptions('prefork', OPTION_CODE, options, cliSchema);
  const out: Partial<Record<keyof PreforkOptions, unknown>> = {};
  for (const [name, value] of Object.entries(o) as Array<[keyof typeof cliSchema, unknown]>) {
    out[cliTarget[name]] = name === 'keepalive' ? (value ? 0 : 1) : value;
  }
  const max = out.maxReqsPerChild as number | undefined;
  const min = out.minReqsPerChild as number | undefined;
  if (min !== undefined && (max === undefined || min > max)) {
    throw new PlankError(
      OPTION_CODE,
      `prefork: option "min-reqs-per-child" must be at most "max-reqs-per-child", got ${min} with ${max ?? 'none'}`,
    );
  }
  return out as Partial<PreforkOptions>;
}
