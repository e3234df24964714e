import { type AppDescription, describeApp, setDescription } from './describe.js';
import { PlankError, show } from './errors.js';
import { resolveMiddleware } from './resolve-middleware.js';
import type { App, Env, Middleware } from './types.js';
import { urlMap } from './url-map.js';

/** What `enable` accepts: a Middleware, or a Plack-style name resolved to a package. */
export type MiddlewareSpec = Middleware | string;

export type BuilderDSL = {
  /** Wraps everything enabled after it and the app. The first `enable` is the outermost. */
  enable(mw: MiddlewareSpec, options?: unknown): void;
  /** Like `enable`, but the middleware only sees requests for which `cond(env)` is true. */
  enableIf(cond: (env: Env) => boolean, mw: MiddlewareSpec, options?: unknown): void;
  /** Serves `app` under a path (`/api`) or host (`http://example.com/`) prefix; see `urlMap`. */
  mount(location: string, app: App): void;
};

export type BuilderOptions = {
  /** Where names given to `enable` are resolved from. @default process.cwd(), then the main script's folder */
  resolveFrom?: string | string[];
};

type Layer = { mw: Middleware; name: string; cond?: (env: Env) => boolean };

let current: BuilderDSL | undefined;

/**
 * Composes middleware around an app, once, and returns the App synchronously. Inside the
 * block, `enable`, `enableIf` and `mount` are both passed in and importable, as in Plack's
 * DSL. Every mistake (an unknown middleware name, a bad option, `mount` mixed with a
 * returned app, no app at all) throws here with a `PLANK_ERR_*` code, never at the first request.
 *
 * @example
 * ```ts
 * import { builder } from '@plank/core';
 * export default builder(({ enable, mount }) => {
 *   enable('Runtime');
 *   enable('ContentLength');
 *   mount('/hello', () => [200, ['Content-Type', 'text/plain'], ['Hello']]);
 * });
 * ```
 */
export function builder(block: (dsl: BuilderDSL) => App | void, options: BuilderOptions = {}): App {
  const layers: Layer[] = [];
  const mounts: Array<[string, App]> = [];
  let open = true;
  const guard = (what: string): void => {
    if (!open)
      throw new PlankError(
        'PLANK_ERR_BUILDER_OUTSIDE',
        `${what}() was called after builder() returned; call it inside the builder block`,
      );
  };
  const dsl: BuilderDSL = {
    enable(mw, opts) {
      guard('enable');
      layers.push({ mw: toMiddleware(mw, opts, options), name: layerName(mw) });
    },
    enableIf(cond, mw, opts) {
      guard('enableIf');
      if (typeof cond !== 'function') {
        throw new PlankError(
          'PLANK_ERR_ENABLE_IF',
          `enableIf(${show(cond)}, ...): the condition must be a function (env) => boolean`,
        );
      }
      layers.push({ mw: toMiddleware(mw, opts, options), name: layerName(mw), cond });
    },
    mount(location, app) {
      guard('mount');
      mounts.push([location, app]);
    },
  };

  const outer = current;
  current = dsl;
  let result: App | void;
  try {
    result = block(dsl);
  } finally {
    current = outer;
    open = false;
  }

  let app: App;
  let described: AppDescription;
  if (mounts.length > 0) {
    if (result !== undefined) {
      throw new PlankError(
        'PLANK_ERR_BUILDER_MIXED',
        'builder(): the block used mount() and also returned an app; mount the app too (mount("/", app)) or drop the mounts',
      );
    }
    app = urlMap(mounts);
    described = { name: 'urlMap', mounts: mounts.map(([location, a]) => ({ location, app: describeApp(a) })) };
  } else if (typeof result === 'function') {
    app = result;
    described = describeApp(result);
  } else if (result === undefined) {
    throw new PlankError('PLANK_ERR_BUILDER_NO_APP', 'builder(): the block neither returned an app nor called mount()');
  } else {
    throw new PlankError(
      'PLANK_ERR_BUILDER_NO_APP',
      `builder(): the block returned ${show(result)}, expected an app (a function)`,
    );
  }

  for (let i = layers.length - 1; i >= 0; i--) {
    const { mw, cond } = layers[i] as Layer;
    app = cond ? conditional(cond, mw, app) : wrap(mw, app);
  }
  // An identity chain returns the user's own function: describing it would mislabel it elsewhere.
  if (app !== result)
    setDescription(app, {
      name: 'builder',
      layers: layers.map((l) => ({ name: l.name, conditional: l.cond !== undefined })),
      inner: described,
    });
  return app;
}

function layerName(spec: MiddlewareSpec): string {
  return typeof spec === 'string' ? spec.replace(/^\+/, '') : spec.name || '(anonymous middleware)';
}

function wrap(mw: Middleware, app: App): App {
  const wrapped = mw(app);
  if (typeof wrapped !== 'function') {
    throw new PlankError(
      'PLANK_ERR_MIDDLEWARE',
      `enable(${show(mw)}): the middleware returned ${show(wrapped)} instead of an app`,
    );
  }
  return wrapped;
}

function conditional(cond: (env: Env) => boolean, mw: Middleware, app: App): App {
  const wrapped = wrap(mw, app);
  return function enableIfApp(env) {
    return cond(env) ? wrapped(env) : app(env);
  };
}

function toMiddleware(spec: MiddlewareSpec, opts: unknown, options: BuilderOptions): Middleware {
  if (typeof spec === 'function') {
    if (opts !== undefined) {
      throw new PlankError(
        'PLANK_ERR_ENABLE_OPTIONS',
        `enable(${show(spec)}, ...): options go to the middleware factory, not to enable(), when enabling by reference`,
      );
    }
    return spec;
  }
  if (typeof spec !== 'string' || spec === '') {
    throw new PlankError(
      'PLANK_ERR_ENABLE',
      `enable(${show(spec)}): expected a middleware (app => app) or a middleware name`,
    );
  }
  const factory = resolveMiddleware(spec, options.resolveFrom);
  try {
    return factory(opts);
  } catch (err) {
    // Match on the code, not the class: a middleware package may carry its own copy of core.
    const own = (err as { code?: unknown } | null)?.code;
    const code = typeof own === 'string' && own.startsWith('PLANK_ERR_') ? own : 'PLANK_ERR_MIDDLEWARE_FACTORY';
    throw new PlankError(code, `enable(${show(spec)}): ${(err as Error).message}`, { cause: err });
  }
}

/** `enable` for use inside a `builder` block without destructuring. */
export function enable(mw: MiddlewareSpec, options?: unknown): void {
  dslOrThrow('enable').enable(mw, options);
}

/** `enableIf` for use inside a `builder` block without destructuring. */
export function enableIf(cond: (env: Env) => boolean, mw: MiddlewareSpec, options?: unknown): void {
  dslOrThrow('enableIf').enableIf(cond, mw, options);
}

/** `mount` for use inside a `builder` block without destructuring. */
export function mount(location: string, app: App): void {
  dslOrThrow('mount').mount(location, app);
}

function dslOrThrow(what: string): BuilderDSL {
  if (!current)
    throw new PlankError(
      'PLANK_ERR_BUILDER_OUTSIDE',
      `${what}() was called outside builder(); call it inside the builder block`,
    );
  return current;
}
