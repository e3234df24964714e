import { availableParallelism } from 'node:os';
import { optionError, PlankError, show } from '@plank/core';
import type { AppSource, ErrorStream, ListenSpec } from '@plank/core';
import { WORKERS_FILE_ENV } from '@plank/scoreboard';

/** Options of {@link prefork}. Durations are milliseconds here; on the command line they are seconds, as in Starlet. */
export type PreforkOptions = {
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
};

/** Every option with its default applied, as the master uses them. */
export type Settings = Required<Omit<PreforkOptions, 'listen' | 'pidFile' | 'workersFile' | 'env'>> & {
  listen: ListenSpec[];
  pidFile: string | undefined;
  workersFile: string | undefined;
  env: Record<string, string | undefined>;
};

const where = 'prefork()';
const CODE = 'PLANK_ERR_PREFORK_OPTION';

function count(options: PreforkOptions, name: keyof PreforkOptions, min: number): void {
  const v = options[name];
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
    throw optionError(CODE, where, name, v, `must be an integer >= ${min}`);
  }
}

function ms(options: PreforkOptions, name: keyof PreforkOptions): void {
  const v = options[name];
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw optionError(CODE, where, name, v, 'must be a number of milliseconds >= 0');
  }
}

const known = new Set<string>([
  'app',
  'listen',
  'workers',
  'maxReqsPerChild',
  'minReqsPerChild',
  'spawnInterval',
  'keepAliveTimeout',
  'maxKeepAliveReqs',
  'timeout',
  'gracefulTimeout',
  'pidFile',
  'workersFile',
  'log',
  'errors',
  'signals',
  'env',
]);

/** Validates {@link PreforkOptions} and fills in the defaults; throws `PLANK_ERR_PREFORK_OPTION`. */
export function settings(options: PreforkOptions): Settings {
  if (typeof options !== 'object' || options === null)
    throw optionError(CODE, where, 'options', options, 'must be an object');
  for (const key of Object.keys(options)) {
    if (!known.has(key))
      throw new PlankError(
        CODE,
        `${where}: unknown option "${key}", got ${show((options as Record<string, unknown>)[key])}`,
      );
  }
  const app = options.app as unknown;
  if (
    typeof app !== 'object' ||
    app === null ||
    typeof (app as AppSource).module !== 'string' ||
    (app as AppSource).module === ''
  ) {
    throw optionError(CODE, where, 'app', app, 'must be an AppSource { module, export?, args?, execArgv? }');
  }
  const { export: exp, execArgv } = app as AppSource;
  if (exp !== undefined && (typeof exp !== 'string' || exp === ''))
    throw optionError(CODE, where, 'app.export', exp, 'must be a non-empty string');
  if (execArgv !== undefined && (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string'))) {
    throw optionError(CODE, where, 'app.execArgv', execArgv, 'must be an array of strings');
  }
  count(options, 'workers', 1);
  count(options, 'maxReqsPerChild', 0);
  count(options, 'minReqsPerChild', 0);
  count(options, 'maxKeepAliveReqs', 0);
  for (const name of ['spawnInterval', 'keepAliveTimeout', 'timeout', 'gracefulTimeout'] as const) ms(options, name);
  const max = options.maxReqsPerChild ?? 0;
  const min = options.minReqsPerChild ?? max;
  if (options.minReqsPerChild !== undefined && (max === 0 || min > max)) {
    throw optionError(
      CODE,
      where,
      'minReqsPerChild',
      min,
      `must be at most maxReqsPerChild (${max}), which must be set`,
    );
  }
  for (const name of ['pidFile', 'workersFile'] as const) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw optionError(CODE, where, name, v, 'must be a non-empty path');
  }
  if (options.log !== undefined && typeof options.log !== 'function')
    throw optionError(CODE, where, 'log', options.log, 'must be a function (line) => void');
  if (options.errors !== undefined && typeof options.errors?.write !== 'function') {
    throw optionError(CODE, where, 'errors', options.errors, 'must have a write(string) method');
  }
  if (
    options.signals !== undefined &&
    options.signals !== true &&
    options.signals !== false &&
    options.signals !== 'control'
  ) {
    throw optionError(CODE, where, 'signals', options.signals, "must be true, false or 'control'");
  }
  const listen = options.listen ?? [{ port: 5000 }];
  if (!Array.isArray(listen) || listen.length === 0)
    throw optionError(CODE, where, 'listen', listen, 'must be a non-empty array of ListenSpec');
  for (const spec of listen) checkListen(spec);
  const errors = options.errors ?? process.stderr;
  return {
    app: app as AppSource,
    listen,
    workers: options.workers ?? availableParallelism(),
    maxReqsPerChild: max,
    minReqsPerChild: min,
    spawnInterval: options.spawnInterval ?? 0,
    keepAliveTimeout: options.keepAliveTimeout ?? 5_000,
    maxKeepAliveReqs: options.maxKeepAliveReqs ?? 0,
    timeout: options.timeout ?? 300_000,
    gracefulTimeout: options.gracefulTimeout ?? 30_000,
    pidFile: options.pidFile,
    workersFile: options.workersFile ?? (options.env ?? process.env)[WORKERS_FILE_ENV],
    log: options.log ?? ((line: string) => void errors.write(`${line}\n`)),
    errors,
    signals: options.signals ?? true,
    env: options.env ?? process.env,
  };
}

function checkListen(spec: unknown): void {
  const s = spec as Record<string, unknown> | null;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    ((typeof s.port === 'number' &&
      Number.isInteger(s.port) &&
      s.port >= 0 &&
      s.port <= 65535 &&
      (s.host === undefined || (typeof s.host === 'string' && s.host !== ''))) ||
      (typeof s.socket === 'string' && s.socket !== '') ||
      (typeof s.fd === 'number' && Number.isInteger(s.fd) && s.fd >= 0));
  if (!ok)
    throw optionError(CODE, where, 'listen', spec, 'entries must be { host?, port } (0-65535), { socket } or { fd }');
}

/** Command-line names (Starlet's, with Starman's aliases) → option, and how to read the value. */
const cliNames: Record<string, [keyof PreforkOptions, 'count' | 'seconds' | 'path' | 'flag']> = {
  'max-workers': ['workers', 'count'],
  workers: ['workers', 'count'],
  'max-reqs-per-child': ['maxReqsPerChild', 'count'],
  'max-requests': ['maxReqsPerChild', 'count'],
  'min-reqs-per-child': ['minReqsPerChild', 'count'],
  'spawn-interval': ['spawnInterval', 'seconds'],
  'keepalive-timeout': ['keepAliveTimeout', 'seconds'],
  'max-keepalive-reqs': ['maxKeepAliveReqs', 'count'],
  keepalive: ['maxKeepAliveReqs', 'flag'],
  timeout: ['timeout', 'seconds'],
  'graceful-timeout': ['gracefulTimeout', 'seconds'],
  'pid-file': ['pidFile', 'path'],
  pid: ['pidFile', 'path'],
  'workers-file': ['workersFile', 'path'],
};

/**
 * Reads the pass-through options plankup hands a server (`--max-workers=4` → `{ 'max-workers': '4' }`)
 * into {@link PreforkOptions}; throws `PLANK_ERR_SERVER_OPTION` naming the option and value.
 */
export function fromCommandLine(options: Record<string, string | boolean>): Partial<PreforkOptions> {
  const out: Partial<Record<keyof PreforkOptions, unknown>> = {};
  for (const [name, value] of Object.entries(options)) {
    const entry = cliNames[name];
    const bad = (expected: string): PlankError =>
      new PlankError('PLANK_ERR_SERVER_OPTION', `prefork: option --${name} ${expected}, got ${show(value)}`);
    if (!entry) {
      throw new PlankError(
        'PLANK_ERR_SERVER_OPTION',
        `prefork: unknown option --${name} (known: ${Object.keys(cliNames)
          .map((n) => `--${n}`)
          .join(', ')})`,
      );
    }
    const [key, kind] = entry;
    if (kind === 'flag') {
      // --disable-keepalive (Starman): one request per connection.
      if (typeof value !== 'boolean') throw bad('takes no value (use --enable-keepalive or --disable-keepalive)');
      out[key] = value ? 0 : 1;
      continue;
    }
    if (typeof value !== 'string' || value === '') throw bad('needs a value');
    if (kind === 'path') {
      out[key] = value;
    } else if (kind === 'count') {
      if (!/^\d+$/.test(value)) throw bad('must be a whole number');
      const n = Number(value);
      if (key === 'workers' && n < 1) throw bad('must be at least 1');
      out[key] = n;
    } else {
      if (!/^\d+(\.\d+)?$/.test(value)) throw bad('must be a number of seconds');
      out[key] = Math.round(Number(value) * 1000);
    }
  }
  if (
    out.minReqsPerChild !== undefined &&
    (out.maxReqsPerChild === undefined || (out.minReqsPerChild as number) > (out.maxReqsPerChild as number))
  ) {
    throw new PlankError(
      'PLANK_ERR_SERVER_OPTION',
      `prefork: option --min-reqs-per-child must be at most --max-reqs-per-child, got ${show(options['min-reqs-per-child'])} with ${show(options['max-reqs-per-child'] ?? options['max-requests'])}`,
    );
  }
  return out as Partial<PreforkOptions>;
}
