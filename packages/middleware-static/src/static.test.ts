import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builder, type App } from '@plank/core';
import { call, makeTree } from './helpers.fixture.js';
import { plankMiddleware, serveStatic } from './index.js';

let tree: ReturnType<typeof makeTree>;
const appRoutes: App = (env) => [
  200,
  ['Content-Type', 'text/plain'],
  [`app saw ${env.REQUEST_METHOD} ${env.PATH_INFO}`],
];

beforeAll(() => {
  tree = makeTree({
    'static/a.css': 'a{}',
    'static/sub/b.js': 'b()',
    'staticky.txt': 'no',
    'files/c.txt': 'c',
    'static/.hidden': 'h',
  });
});
afterAll(() => tree.cleanup());

describe('serveStatic: which requests it claims', () => {
  it('claims nothing without a path', async () => {
    const app = serveStatic({ root: tree.root })(appRoutes);
    expect((await call(app, '/static/a.css')).body.toString()).toBe('app saw GET /static/a.css');
  });

  it('treats a string as a path prefix on a segment boundary, keeping it in the file path', async () => {
    const app = serveStatic({ path: '/static', root: tree.root })(appRoutes);
    expect((await call(app, '/static/a.css')).body.toString()).toBe('a{}');
    expect((await call(app, '/static/sub/b.js')).body.toString()).toBe('b()');
    expect((await call(app, '/staticky.txt')).body.toString()).toBe('app saw GET /staticky.txt');
  });

  it('tests a RegExp on PATH_INFO, even one with the global flag', async () => {
    const app = serveStatic({ path: /\.css$/g, root: join(tree.root, 'static') })(appRoutes);
    for (let i = 0; i < 3; i++) expect((await call(app, '/a.css')).body.toString()).toBe('a{}');
    expect((await call(app, '/sub/b.js')).body.toString()).toBe('app saw GET /sub/b.js');
  });

  it('lets a function rewrite the path or decline with false', async () => {
    const app = serveStatic({
      path: (p) => p.startsWith('/assets/') && p.slice('/assets'.length),
      root: join(tree.root, 'static'),
    })(appRoutes);
    expect((await call(app, '/assets/a.css')).body.toString()).toBe('a{}');
    expect((await call(app, '/other/a.css')).body.toString()).toBe('app saw GET /other/a.css');
  });

  it('checks the rewritten path, so a rewrite cannot smuggle in a traversal', async () => {
    const app = serveStatic({ path: (p) => p.replace(/^\/x/, '/..'), root: join(tree.root, 'static') })(appRoutes);
    expect((await call(app, '/x/staticky.txt')).status).toBe(403);
  });
});

describe('serveStatic: passThrough', () => {
  it('answers a missing file with 404 by default', async () => {
    const res = await call(serveStatic({ path: '/static', root: tree.root })(appRoutes), '/static/missing.css');
    expect(res.status).toBe(404);
    expect(res.body.toString()).toBe('not found');
  });

  it('hands a 404 to the app with passThrough, but never a 403 or 400', async () => {
    const app = serveStatic({ path: '/static', root: tree.root, passThrough: true, dotfiles: 'deny' })(appRoutes);
    expect((await call(app, '/static/missing.css')).body.toString()).toBe('app saw GET /static/missing.css');
    expect((await call(app, '/static/..%2fstaticky.txt')).status).toBe(403);
    expect((await call(app, '/static/.hidden')).status).toBe(403);
    expect((await call(app, '/static/a%00.css')).status).toBe(400);
  });

  it('answers other methods with 405 and Allow, or hands them to the app with passThrough', async () => {
    const strict = await call(
      serveStatic({ path: '/static', root: tree.root })(appRoutes),
      '/static/a.css',
      {},
      'POST',
    );
    expect(strict.status).toBe(405);
    expect(strict.get('allow')).toBe('GET, HEAD');
    const lenient = await call(
      serveStatic({ path: '/static', root: tree.root, passThrough: true })(appRoutes),
      '/static/a.css',
      {},
      'POST',
    );
    expect(lenient.body.toString()).toBe('app saw POST /static/a.css');
  });
});

describe('serveStatic: options and names', () => {
  it('rejects a bad path or passThrough when the factory is called', () => {
    for (const path of ['static', 42, {}]) {
      expect(() => serveStatic({ path: path as never, root: tree.root })).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_STATIC_OPTION', message: expect.stringContaining('"path"') }),
      );
    }
    expect(() => serveStatic({ path: '/s', passThrough: 'yes' as never, root: tree.root })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_STATIC_OPTION', message: expect.stringContaining('"passThrough"') }),
    );
  });

  it('is registered under its Plack name', () => {
    expect(plankMiddleware.Static).toBe(serveStatic);
  });

  it('can be enabled by name in a builder', async () => {
    const app = builder(
      ({ enable }) => {
        enable('Static', { path: '/static', root: tree.root });
        return appRoutes;
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    expect((await call(app, '/static/a.css')).body.toString()).toBe('a{}');
  });
});
