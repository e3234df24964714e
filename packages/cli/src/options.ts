import { didYouMean, PlankError, show } from '@plank/core';
import { mountPath, port } from './checks.js';

/** Everything plankup understood from its command line. */
export type RunnerOptions = {
  app: string | undefined;
  host: string | undefined;
  port: number | undefined;
  socket: string | undefined;
  listen: string[];
  server: string;
  env: string;
  eval: string | undefined;
  modules: string[];
  reload: boolean;
  watch: string[];
  accessLog: string | undefined;
  path: string | undefined;
  defaultMiddleware: boolean;
  check: boolean;
  debug: boolean;
  help: boolean;
  version: boolean;
  /** Pass-through options for the server: `--max-workers=4` → `'max-workers': '4'`. */
  serverOptions: Record<string, string | boolean>;
};

type Spec = { key: keyof RunnerOptions; value: 'string' | 'port' | 'flag' | 'list' };

// plackup's options (Plack::Runner), with the same short names.
const specs: Record<string, Spec> = {
  a: { key: 'app', value: 'string' },
  app: { key: 'app', value: 'string' },
  o: { key: 'host', value: 'string' },
  host: { key: 'host', value: 'string' },
  p: { key: 'port', value: 'port' },
  port: { key: 'port', value: 'port' },
  S: { key: 'socket', value: 'string' },
  socket: { key: 'socket', value: 'string' },
  l: { key: 'listen', value: 'list' },
  listen: { key: 'listen', value: 'list' },
  s: { key: 'server', value: 'string' },
  server: { key: 'server', value: 'string' },
  E: { key: 'env', value: 'string' },
  env: { key: 'env', value: 'string' },
  e: { key: 'eval', value: 'string' },
  M: { key: 'modules', value: 'list' },
  r: { key: 'reload', value: 'flag' },
  reload: { key: 'reload', value: 'flag' },
  R: { key: 'watch', value: 'list' },
  Reload: { key: 'watch', value: 'list' },
  'access-log': { key: 'accessLog', value: 'string' },
  path: { key: 'path', value: 'string' },
  'default-middleware': { key: 'defaultMiddleware', value: 'flag' },
  check: { key: 'check', value: 'flag' },
  debug: { key: 'debug', value: 'flag' },
  h: { key: 'help', value: 'flag' },
  help: { key: 'help', value: 'flag' },
  v: { key: 'version', value: 'flag' },
  version: { key: 'version', value: 'flag' },
};

const longNames = [...Object.keys(specs).filter((n) => n.length > 1), 'no-default-middleware'];

/**
 * Parses plankup's command line the way Plack::Runner does: known options first (`-p 5000`,
 * `--port=5000`, `-M mod` or `-Mmod`), then every other `--key=value`, `--key value`,
 * `--enable-key` and `--disable-key` goes to the server. `PLANK_ENV` wins over `-E`, as
 * `PLACK_ENV` does.
 *
 * @example
 * ```ts
 * import { parseArgs } from '@plank/cli';
 * parseArgs(['-p', '8080', '--max-workers=4', 'app.ts']).serverOptions; // { 'max-workers': '4' }
 * ```
 */
export function parseArgs(
  argv: readonly string[],
  environment: Record<string, string | undefined> = process.env,
): RunnerOptions {
  const opts: RunnerOptions = {
    app: undefined,
    host: undefined,
    port: undefined,
    socket: undefined,
    listen: [],
    server: 'node',
    env: 'development',
    eval: undefined,
    modules: [],
    reload: false,
    watch: [],
    accessLog: undefined,
    path: undefined,
    defaultMiddleware: true,
    check: false,
    debug: false,
    help: false,
    version: false,
    serverOptions: {},
  };
  const positional: string[] = [];
  const args = [...argv];
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '--') {
      positional.push(...args.splice(0));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    let name = arg.slice(long ? 2 : 1);
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (
      !long &&
      name.length > 1 &&
      (name[0] === 'M' || name[0] === 'p' || name[0] === 'R') &&
      !(name in specs)
    ) {
      // -Mmodule, -p5000: cuddled values, as prove and plackup allow.
      inline = name.slice(1);
      name = name[0] as string;
    }
    if (long && name.startsWith('no-') && specs[name.slice(3)]?.value === 'flag') {
      set(opts, specs[name.slice(3)] as Spec, arg, false);
      continue;
    }
    const spec = specs[name];
    if (spec) {
      if (spec.value === 'flag') {
        if (inline !== undefined) throw cliError(`option ${arg} takes no value`);
        set(opts, spec, arg, true);
      } else {
        const value = inline ?? args.shift();
        if (value === undefined) throw cliError(`option ${arg} needs a value`);
        set(opts, spec, arg, value);
      }
      continue;
    }
    if (!long && name.length === 1) throw cliError(`unknown option ${arg} (see plankup --help)`);
    // A near miss of plankup's own long options is a typo, not a server option: `--chek`
    // would otherwise reach the server and fail there with a message about the server.
    const near = long && name.length >= 4 ? didYouMean(name, longNames) : undefined;
    if (near !== undefined) throw cliError(`unknown option --${name} (did you mean --${near}?)`);
    // Everything else belongs to the server, as in Plack::Runner.
    const key = name.replace(/_/g, '-');
    if (inline !== undefined) opts.serverOptions[key] = inline;
    else if (/^(enable|disable)-./.test(key))
      opts.serverOptions[key.replace(/^(enable|disable)-/, '')] = key.startsWith('enable-');
    else {
      const value = args[0] !== undefined && !args[0].startsWith('-') ? (args.shift() as string) : undefined;
      if (value === undefined)
        throw cliError(`server option ${arg} needs a value (--${key}=VALUE), or use --enable-${key}`);
      opts.serverOptions[key] = value;
    }
  }
  if (positional.length > 1)
    throw cliError(`one app file at most, got ${positional.map((p) => JSON.stringify(p)).join(' ')}`);
  if (positional[0] !== undefined) {
    if (opts.app !== undefined)
      throw cliError(`the app is given twice: --app ${JSON.stringify(opts.app)} and ${JSON.stringify(positional[0])}`);
    opts.app = positional[0];
  }
  if (environment.PLANK_ENV) opts.env = environment.PLANK_ENV;
  // $PORT, as Heroku, Render, Cloud Run, Fly.io and most PaaS set it, when no -p says otherwise.
  // $HOST is not read: zsh and other shells set HOST to the machine's name, not an interface.
  if (opts.port === undefined && environment.PORT !== undefined && environment.PORT !== '')
    set(opts, specs.port as Spec, '$PORT', environment.PORT);
  if (opts.watch.length > 0) opts.reload = true;
  opts.watch = opts.watch.flatMap((w) => w.split(',')).filter(Boolean);
  if (opts.path !== undefined && mountPath.parse(opts.path) === undefined)
    throw cliError(`--path ${mountPath.expected}, got ${show(opts.path)}`);
  return opts;
}

function set(opts: RunnerOptions, spec: Spec, arg: string, value: string | boolean): void {
  const record = opts as unknown as Record<string, unknown>;
  switch (spec.value) {
    case 'list':
      (record[spec.key] as string[]).push(value as string);
      break;
    case 'port': {
      const number = port.parse(value);
      if (number === undefined)
        throw cliError(`${arg.startsWith('$') ? '' : 'option '}${arg} ${port.expected}, got ${show(value)}`);
      record[spec.key] = number;
      break;
    }
    default:
      record[spec.key] = value;
  }
}

function cliError(message: string): PlankError {
  return new PlankError('PLANK_ERR_CLI_OPTION', message);
}
