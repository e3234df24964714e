import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { builder, header, PlankError, responseCb, show, type App, type BuilderDSL } from '@plank/core';
import { resolveFrom } from './resolve.js';

/**
 * Everything needed to load the app, as plain data: plankup loads it in-process, and the
 * prefork server passes the same object to each worker, which calls `loadApp` itself.
 */
export type LoadArgs = {
  /** Absolute path of the app module (its default export is the app), if any. */
  app?: string | undefined;
  /** `-e` code: a builder block body; without an app file, an expression or mount() calls. */
  eval?: string | undefined;
  /** `-M` modules to import first (paths or package names, resolved from `cwd`). */
  modules: string[];
  /** `-E`: `development` adds AccessLog, StackTrace and Lint unless `defaultMiddleware` is false. */
  env: string;
  defaultMiddleware: boolean;
  /** `--access-log FILE`: an AccessLog to that file, in every environment. */
  accessLog?: string | undefined;
  /** `--path /mount`: serve the app under this prefix. */
  path?: string | undefined;
  cwd: string;
};

const tsExtensions = new Set(['.ts', '.mts', '.cts', '.tsx']);
let tsxRegistered = false;

/**
 * Loads and wraps the app as plankup would, without serving it.
 *
 * @example
 * ```ts
 * import { loadApp } from '@plank/cli/load';
 * const app = await loadApp({ app: '/srv/app.ts', modules: [], env: 'deployment', defaultMiddleware: true, cwd: '/srv' });
 * ```
 */
export async function loadApp(args: LoadArgs): Promise<App> {
  process.env.PLANK_ENV = args.env;
  const modules = args.modules.map((m) => resolveModule(m, args.cwd));
  if ([args.app, ...modules].some((f) => f !== undefined && tsExtensions.has(extname(f)))) await registerTs();
  for (const file of modules) await import(pathToFileURL(file).href);

  const fileApp = args.app === undefined ? undefined : await importApp(args.app);
  let app = args.eval === undefined ? (fileApp as App) : evalApp(args.eval, fileApp);
  if (args.path !== undefined) {
    const inner = app;
    const at = args.path;
    app = builder(({ mount: m }) => m(at, inner));
  }
  const inner = app;
  const development = args.env === 'development' && args.defaultMiddleware;
  if (!development && args.accessLog === undefined) return app;
  return builder(
    ({ enable: e }) => {
      if (args.accessLog !== undefined) e('AccessLog', { file: resolve(args.cwd, args.accessLog) });
      else e('AccessLog', { logger: (line: string) => process.stderr.write(line) });
      if (development) {
        e('StackTrace');
        e('Lint');
      }
      return inner;
    },
    { resolveFrom: [args.cwd, import.meta.dirname] },
  );
}

async function registerTs(): Promise<void> {
  if (tsxRegistered) return;
  const { register } = await import('tsx/esm/api');
  register();
  tsxRegistered = true;
}

async function importApp(file: string): Promise<App> {
  if (!existsSync(file)) throw new PlankError('PLANK_ERR_APP_NOT_FOUND', `app file not found: ${file}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new PlankError('PLANK_ERR_APP_LOAD', `cannot load ${file}: ${firstLine(err)}`, { cause: err });
  }
  const app = await mod.default;
  if (typeof app !== 'function') {
    throw new PlankError(
      'PLANK_ERR_APP_EXPORT',
      `${file}: the default export must be an app (env => response), got ${show(app)}`,
    );
  }
  return app as App;
}

function evalApp(code: string, fileApp: App | undefined): App {
  const names = ['enable', 'enableIf', 'mount', 'builder', 'header', 'responseCb', 'app'];
  const compile = (body: string): ((...a: unknown[]) => unknown) => {
    try {
      return new Function(...names, body) as (...a: unknown[]) => unknown;
    } catch (err) {
      throw new PlankError('PLANK_ERR_APP_EVAL', `-e: ${firstLine(err)}`, { cause: err });
    }
  };
  // Without an app file, `-e` may be just an app expression: `plankup -e '() => [200, [], ["hi"]]'`.
  let fn: (...a: unknown[]) => unknown;
  try {
    fn = new Function(...names, `return (${code}\n);`) as typeof fn;
  } catch {
    fn = compile(code);
  }
  return builder((dsl: BuilderDSL) => {
    const result = fn(dsl.enable, dsl.enableIf, dsl.mount, builder, header, responseCb, fileApp);
    return (fileApp ?? (typeof result === 'function' ? result : undefined)) as App | undefined;
  });
}

function resolveModule(spec: string, cwd: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) return resolve(cwd, spec);
  try {
    return resolveFrom(spec, [cwd]);
  } catch (err) {
    throw new PlankError('PLANK_ERR_MODULE', `-M ${spec}: cannot find module from ${cwd}`, { cause: err });
  }
}

/** One line saying what went wrong, with the file position when the error has one. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  // esbuild (through tsx) puts the useful part on a line of its own: "file.ts:3:9: ERROR: ...".
  const located = lines.find((l) => /:\d+:\d+: ERROR: /.test(l));
  if (located) return located;
  const first = lines[0] ?? 'unknown error';
  // A SyntaxError from node names the file and line as the first line of its stack.
  const where = err instanceof SyntaxError ? /^(file:\/\/\S+|\/\S+):(\d+)$/m.exec(err.stack ?? '') : null;
  return where ? `${where[1]?.replace(/^file:\/\//, '')}:${where[2]}: ${first}` : first;
}
