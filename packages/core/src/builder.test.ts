import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeEnv } from './fake-env.fixture.js';
import { builder, describeApp, enable, formatStack, middlewarePackageName, mount } from './index.js';
import type { App, Middleware, Response } from './types.js';

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['hello']];

// A middleware that records its name on the way in, so tests can see the order of layers.
const tag =
  (name: string): Middleware =>
  (app) =>
  (env) => {
    (env['test.trail'] as string[] | undefined)?.push(name) ?? (env['test.trail'] = [name]);
    return app(env);
  };

// A scratch project with middleware packages in node_modules, to resolve names from.
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plank-builder-'));
  const pkg = (name: string, source: string): void => {
    const root = join(dir, 'node_modules', name);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
    writeFileSync(join(root, 'index.js'), source);
  };
  const header = (value: string): string =>
    `(opts = {}) => (app) => (env) => { const r = app(env); r[1].push('X-Mw', ${JSON.stringify(value)} + (opts.suffix ?? '')); return r; }`;
  pkg('@plank/middleware-fake-thing', `export default ${header('fake')};`);
  pkg(
    '@plank/middleware-multi',
    `export const plankMiddleware = { 'Multi': ${header('multi')}, 'Multi::Timed': ${header('timed')} };`,
  );
  pkg('custom-mw', `export default ${header('custom')};`);
  pkg(
    '@plank/middleware-strict',
    `export default (opts) => { if (!opts) { const e = new Error('option "level" is required'); e.code = 'PLANK_ERR_STRICT_LEVEL'; throw e; } return (app) => app; };`,
  );
  pkg('@plank/middleware-throws', `export default () => { throw new TypeError('boom'); };`);
  pkg('@plank/middleware-empty', `export const nothing = 1;`);
  return dir;
}

describe('builder', () => {
  it('returns the app synchronously with the first enable outermost', () => {
    const app = builder(({ enable }) => {
      enable(tag('outer'));
      enable(tag('inner'));
      return hello;
    });
    const env = fakeEnv();
    const res = app(env) as Response;
    expect(res[0]).toBe(200);
    expect(env['test.trail']).toEqual(['outer', 'inner']);
  });

  it('composes the chain once, not per request', () => {
    let built = 0;
    const counting: Middleware = (app) => {
      built++;
      return app;
    };
    const app = builder(({ enable }) => {
      enable(counting);
      return hello;
    });
    app(fakeEnv());
    app(fakeEnv());
    expect(built).toBe(1);
  });

  it('enableIf applies the middleware only when the condition holds', () => {
    const app = builder(({ enableIf }) => {
      enableIf((env) => env.REMOTE_ADDR === '10.0.0.1', tag('only-10'));
      return hello;
    });
    const local = fakeEnv();
    app(local);
    expect(local['test.trail']).toBeUndefined();
    const remote = fakeEnv({ REMOTE_ADDR: '10.0.0.1' });
    app(remote);
    expect(remote['test.trail']).toEqual(['only-10']);
  });

  it('mount builds a urlMap and middleware wraps all mounts', () => {
    const app = builder(({ enable, mount }) => {
      enable(tag('around'));
      mount('/api', () => [200, [], ['api']]);
      mount('/', hello);
    });
    const env = fakeEnv({ PATH_INFO: '/api/x' });
    expect((app(env) as Response)[2]).toEqual(['api']);
    expect(env['test.trail']).toEqual(['around']);
  });

  it('also offers enable and mount as imports inside the block', () => {
    const app = builder(() => {
      enable(tag('imported'));
      mount('/', hello);
    });
    const env = fakeEnv();
    app(env);
    expect(env['test.trail']).toEqual(['imported']);
  });

  it('rejects mount mixed with a returned app', () => {
    expect(() =>
      builder(({ mount }) => {
        mount('/a', hello);
        return hello;
      }),
    ).toThrow(expect.objectContaining({ code: 'PLANK_ERR_BUILDER_MIXED' }));
  });

  it('rejects a block that yields no app', () => {
    expect(() => builder(() => undefined)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_BUILDER_NO_APP' }));
    expect(() => builder(() => 'app' as unknown as App)).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_BUILDER_NO_APP', message: expect.stringContaining('"app"') }),
    );
  });

  it('rejects enable outside builder and after builder returned', () => {
    expect(() => enable(tag('x'))).toThrow(expect.objectContaining({ code: 'PLANK_ERR_BUILDER_OUTSIDE' }));
    let late: ((mw: Middleware) => void) | undefined;
    builder(({ enable: e }) => {
      late = e;
      return hello;
    });
    expect(() => late?.(tag('x'))).toThrow(expect.objectContaining({ code: 'PLANK_ERR_BUILDER_OUTSIDE' }));
  });

  it('rejects a middleware that does not return an app, and options passed to a reference', () => {
    expect(() => builder(({ enable: e }) => (e((() => 42) as unknown as Middleware), hello))).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_MIDDLEWARE' }),
    );
    expect(() => builder(({ enable: e }) => (e(tag('x'), { a: 1 }), hello))).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ENABLE_OPTIONS' }),
    );
  });

  it('describes its stack outermost first, with mounts, for plankup --check', () => {
    const api = builder(({ enable: e }) => {
      e(tag('auth'));
      return function apiApp() {
        return [200, [], []];
      };
    });
    const app = builder(({ enable: e, enableIf, mount: m }) => {
      e(function logger(inner: App) {
        return inner;
      });
      enableIf(() => true, tag('x'));
      m('/api', api);
      m('/', hello);
    });
    expect(formatStack(describeApp(app))).toBe(
      'logger → (anonymous middleware) (if) → urlMap(/api: (anonymous middleware) → apiApp, /: hello)',
    );
  });

  it('maps Plack-style names to package names', () => {
    expect(middlewarePackageName('AccessLog')).toBe('@plank/middleware-access-log');
    expect(middlewarePackageName('ServerStatus::Lite')).toBe('@plank/middleware-server-status-lite');
    expect(middlewarePackageName('ReverseProxy')).toBe('@plank/middleware-reverse-proxy');
    expect(middlewarePackageName('HTTPExceptions')).toBe('@plank/middleware-http-exceptions');
    expect(middlewarePackageName('+custom-mw')).toBe('custom-mw');
  });

  describe('enable by name', () => {
    const project = scratchProject();
    const build = (name: string, options?: unknown): App =>
      builder(
        ({ enable: e }) => {
          e(name, options);
          return () => [200, [], []];
        },
        { resolveFrom: project },
      );
    const mark = (app: App): string[] => (app(fakeEnv()) as Response)[1];

    it('loads a package by its Plack-style name and passes the options to its factory', () => {
      expect(mark(build('FakeThing'))).toEqual(['X-Mw', 'fake']);
      expect(mark(build('FakeThing', { suffix: '!' }))).toEqual(['X-Mw', 'fake!']);
    });

    it('finds A::B in the package of A when it exports that name', () => {
      expect(mark(build('Multi'))).toEqual(['X-Mw', 'multi']);
      expect(mark(build('Multi::Timed'))).toEqual(['X-Mw', 'timed']);
    });

    it('loads +package as written', () => {
      expect(mark(build('+custom-mw'))).toEqual(['X-Mw', 'custom']);
    });

    it('names an unknown middleware and where it looked', () => {
      expect(() => build('NoSuchThing')).toThrow(
        expect.objectContaining({
          code: 'PLANK_ERR_UNKNOWN_MIDDLEWARE',
          message: expect.stringContaining('@plank/middleware-no-such-thing'),
        }),
      );
    });

    it('reports a package without a factory', () => {
      expect(() => build('Empty')).toThrow(expect.objectContaining({ code: 'PLANK_ERR_MIDDLEWARE_EXPORT' }));
    });

    it('keeps the factory error code for bad options and names the middleware', () => {
      expect(() => build('Strict')).toThrow(
        expect.objectContaining({
          code: 'PLANK_ERR_STRICT_LEVEL',
          message: expect.stringMatching(/^enable\("Strict"\): option "level" is required$/),
        }),
      );
      expect(() => build('Throws')).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_MIDDLEWARE_FACTORY', message: 'enable("Throws"): boom' }),
      );
    });
  });
});
