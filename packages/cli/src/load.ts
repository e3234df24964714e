import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { builder, checkOptions, header, PlankError, responseCb, show, type App, type BuilderDSL } from '@plank/core';
import { loadArgs as schema } from './checks.js';
import { importFile } from './import-file.js';
import { firstLine, loadFailure } from './one-line.js';
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
  /** `-M` modules to import first (paths or package names, resolved from `cwd`). @default [] */
  modules?: string[] | undefined;
  /** `-E`: `development` adds AccessLog, StackTrace and Lint unless `defaultMiddleware` is false. @default 'development' */
  env?: string | undefined;
  /** @default true */
  defaultMiddleware?: boolean | undefined;
  /** `--access-log FILE`: an AccessLog to that file, in every environment. */
  accessLog?: string | undefined;
  /** `--path /mount`: serve the app under this prefix. */
  path?: string | undefined;
  /** Where `-M` names and `accessLog` are resolved from. @default process.cwd() */
  cwd?: string | undefined;
};

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
  // Checked here, not only by the command line: prefork workers call this with data that
  // crossed a process boundary, and other tools may call it directly.
  const o = checkOptions('loadApp', 'PLANK_ERR_CLI_OPTION', args, schema);
  const { modules = [], env = 'development', defaultMiddleware = true, cwd = process.cwd(), accessLog } = o;
  process.env.PLANK_ENV = env;
  for (const file of modules.map((m) => resolveModule(m, cwd))) await load(file, 'PLANK_ERR_MODULE');

  const fileApp = o.app === undefined ? undefined : await importApp(o.app);
  let app = o.eval === undefined ? (fileApp as App) : evalApp(o.eval, fileApp);
  if (o.path !== undefined) {
    const inner = app;
    const at = o.path;
    app = builder(({ mount: m }) => m(at, inner));
  }
  const inner = app;
  const development = env === 'development' && defaultMiddleware;
  if (!development && accessLog === undefined) return app;
  return builder(
    ({ enable: e }) => {
      if (accessLog !== undefined) e('AccessLog', { file: resolve(cwd, accessLog) });
      else e('AccessLog', { logger: (line: string) => process.stderr.write(line) });
      if (development) {
        e('StackTrace');
        e('Lint');
      }
      return inner;
    },
    { resolveFrom: [cwd, import.meta.dirname] },
  );
}

/** Loads an app or `-M` file; any failure becomes one line naming the file (and the position of a syntax error). */
async function load(file: string, code: string): Promise<unknown> {
  try {
    return await importFile(file);
  } catch (err) {
    throw new PlankError(code, `cannot load ${file}: ${await loadFailure(err, file)}`, { cause: err });
  }
}

async function importApp(file: string): Promise<App> {
  if (!existsSync(file)) throw new PlankError('PLANK_ERR_APP_NOT_FOUND', `app file not found: ${file}`);
  const app = await load(file, 'PLANK_ERR_APP_LOAD');
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
