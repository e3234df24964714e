import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  describeApp,
  formatStack,
  PlankError,
  type App,
  type AppSource,
  type RunningServer,
  type ServerAdapter,
} from '@plank/core';
import { describeListen } from '@plank/server-node';
import { listenSpecs } from './listen.js';
import { loadApp, type LoadArgs } from './load.js';
import { firstLine } from './one-line.js';
import { parseArgs, type RunnerOptions } from './options.js';
import type { RunnerIO } from './io.js';
import { superviseReload } from './reload.js';
import { resolveFrom } from './resolve.js';
import { usage } from './usage.js';

const defaultAppFiles = ['app.ts', 'app.js', 'app.mjs'];
const builtinServers: Record<string, string> = {
  node: '@plank/server-node',
  fastify: '@plank/server-fastify',
  prefork: '@plank/server-prefork',
};

/**
 * plankup's whole behaviour (Plack::Runner's job): parse options, find and load the app,
 * wrap it for the environment, pick the server and run it until a signal stops it. The
 * `plankup` bin is four statements over this class.
 *
 * @example
 * ```ts
 * import { Runner } from '@plank/cli';
 * process.exitCode = await new Runner().run(['-p', '8080', 'app.ts']);
 * ```
 */
export class Runner {
  readonly io: RunnerIO;

  constructor(io: Partial<RunnerIO> = {}) {
    this.io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), ...io };
  }

  /** Runs plankup with these arguments; resolves with the exit code once the server has stopped. */
  async run(argv: readonly string[]): Promise<number> {
    try {
      const opts = parseArgs(argv, this.io.env);
      if (opts.help) return (this.print(usage), 0);
      if (opts.version) return (this.print(`plankup ${version()} (node ${process.version})\n`), 0);
      if (opts.reload && this.io.env.PLANK_RELOAD_CHILD === undefined) {
        return await superviseReload(argv, this.watchList(opts), this.io);
      }
      return await this.serve(opts);
    } catch (err) {
      return this.fail(err, argv.includes('--debug'));
    }
  }

  private async serve(opts: RunnerOptions): Promise<number> {
    const args = this.loadArgs(opts);
    const adapter = await this.adapter(opts.server);
    const listen = listenSpecs(opts);
    // prefork loads the app in its workers; plankup still loads it once here when checking.
    const app = adapter.loadsApp && !opts.check ? undefined : await loadApp(args);
    const source: AppSource = {
      module: join(import.meta.dirname, 'load.js'),
      export: 'loadApp',
      args,
      // Not plankup's own node flags: an --inspect would have every worker claim one port.
      // NODE_OPTIONS reaches the workers (README).
      execArgv: [],
    };
    if (opts.check) {
      adapter.validate?.({ app, source, listen, options: opts.serverOptions, log: () => {}, errors: process.stderr });
      this.print(
        [
          'plankup: configuration OK',
          `  app:     ${args.app ?? '(-e)'}`,
          `  env:     ${args.env}`,
          `  server:  ${adapter.name}${Object.keys(opts.serverOptions).length ? ` ${JSON.stringify(opts.serverOptions)}` : ''}`,
          `  listen:  ${listen.map(describeListen).join(', ')}`,
          `  stack:   ${formatStack(describeApp(app as App))}`,
          '',
        ].join('\n'),
      );
      return 0;
    }
    const running: RunningServer = await adapter.run({
      app,
      source,
      listen,
      options: opts.serverOptions,
      log: (line) => this.io.stderr.write(`${line}\n`),
      errors: process.stderr,
    });
    for (const url of running.urls)
      this.io.stderr.write(`plankup: ${adapter.name} server listening on ${url}${everywhere(url)}\n`);
    return await this.untilStopped(running);
  }

  private untilStopped(running: RunningServer): Promise<number> {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal means now.
        this.io.stderr.write(`plankup: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      this.io.stderr.write(`plankup: ${signal}, stopping gracefully\n`);
      void running.close();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return running.closed.finally(() => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  }

  private loadArgs(opts: RunnerOptions): LoadArgs {
    const cwd = this.io.cwd;
    let app: string | undefined;
    if (opts.app !== undefined) {
      app = resolve(cwd, opts.app);
      if (!existsSync(app)) throw new PlankError('PLANK_ERR_APP_NOT_FOUND', `app file not found: ${opts.app}`);
    } else if (opts.eval === undefined) {
      app = defaultAppFiles.map((f) => join(cwd, f)).find((f) => existsSync(f));
      if (app === undefined)
        throw new PlankError(
          'PLANK_ERR_APP_NOT_FOUND',
          `no app: none of ${defaultAppFiles.join(', ')} in ${cwd} (give one: plankup app.ts)`,
        );
    }
    return {
      app,
      eval: opts.eval,
      modules: opts.modules,
      env: opts.env,
      defaultMiddleware: opts.defaultMiddleware,
      accessLog: opts.accessLog,
      path: opts.path,
      cwd,
    };
  }

  private async adapter(name: string): Promise<ServerAdapter> {
    const pkg = name.startsWith('+') ? name.slice(1) : (builtinServers[name] ?? `@plank/server-${name}`);
    let path: string;
    try {
      // The app's project first (where `npm install @plank/server-prefork` puts it), then plankup's own.
      path = resolveFrom(pkg, [this.io.cwd, import.meta.dirname]);
    } catch (err) {
      // Only node comes with plankup (a light default install); the others are found by name,
      // as Plack::Loader finds Plack::Handler::<Name>, so a missing one says how to get it.
      const message =
        name in builtinServers || name.startsWith('+')
          ? `server "${name}" needs ${pkg}, which is not installed: npm install ${pkg}`
          : `unknown server "${name}": no package ${pkg} is installed (servers: ${Object.keys(builtinServers).join(', ')}, or +package)`;
      throw new PlankError('PLANK_ERR_CLI_SERVER', message, { cause: err });
    }
    const adapter = ((await import(path)) as { plankServer?: ServerAdapter }).plankServer;
    if (!adapter || typeof adapter.run !== 'function')
      throw new PlankError('PLANK_ERR_CLI_SERVER', `server ${JSON.stringify(name)}: ${pkg} exports no plankServer`);
    return adapter;
  }

  private watchList(opts: RunnerOptions): string[] {
    const dirs = opts.watch.map((w) => resolve(this.io.cwd, w));
    const app = opts.app === undefined ? this.io.cwd : resolve(this.io.cwd, opts.app, '..');
    return [...new Set([app, ...dirs])];
  }

  private print(s: string): void {
    this.io.stdout.write(s);
  }

  private fail(err: unknown, debug: boolean): number {
    const code = (err as { code?: string } | null)?.code;
    // Servers wrap the system error; its errno says what a person needs to hear.
    const sys = (code?.startsWith('E') ? err : (err as { cause?: unknown } | null)?.cause) as
      | { code?: string; address?: string; port?: number }
      | undefined;
    const where =
      sys?.address !== undefined
        ? `${sys.address}${sys.port !== undefined && sys.port >= 0 ? `:${sys.port}` : ''}`
        : undefined;
    let message = firstLine(err);
    if (sys?.code === 'EADDRINUSE') message = `cannot listen on ${where ?? 'that address'}: address already in use`;
    else if (sys?.code === 'EACCES') message = `cannot listen on ${where ?? 'that address'}: permission denied`;
    this.io.stderr.write(`plankup: ${message}\n`);
    if (debug) {
      // The stack, and the stack of what caused it (a load error keeps the compiler's error).
      for (let e: unknown = err; e instanceof Error; e = e.cause)
        this.io.stderr.write(`${e === err ? '' : 'Caused by: '}${e.stack ?? e.message}\n`);
    }
    return code === 'PLANK_ERR_CLI_OPTION' ? 2 : 1;
  }
}

function version(): string {
  return (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string })
    .version;
}

/**
 * Says so when a start-up URL is a wildcard: the server answers on every interface, not one.
 * A server that already says it in its own words (prefork's URLs carry the same note) keeps them.
 */
function everywhere(url: string): string {
  if (/\s\(/.test(url)) return '';
  if (url.includes('//[::]:')) return ' (every interface, IPv4 and IPv6)';
  if (url.includes('//0.0.0.0:')) return ' (every IPv4 interface)';
  return '';
}
