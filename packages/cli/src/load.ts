import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { builder, header, PlankError, responseCb, show, type App, type BuilderDSL } from '@plank/core';
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
  for (const file of args.modules.map((m) => resolveModule(m, args.cwd))) await load(file, 'PLANK_ERR_MODULE');

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
