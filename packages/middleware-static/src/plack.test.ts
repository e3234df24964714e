// Plack's own expectations for Static and App::File (t/Plack-Middleware/static.t,
// static-methods.t and file.t), in-process and over a real socket.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builder, lint, type App } from '@plank/core';
import { testApp, type TestMode } from '@plank/test';
import mime from 'mime-types';
import { makeTree } from './helpers.fixture.js';
import { fileApp, serveStatic } from './index.js';

let tree: ReturnType<typeof makeTree>;
const okApp: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '2'], ['ok']];

beforeAll(() => {
  tree = makeTree({
    'share/face.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    't/test.txt': 'foo\n',
    't/Plack-Middleware/static.txt': 'static\n',
    't/Plack-Middleware/static.foo': 'foo file\n',
    't/Plack-Middleware/file.t': '# We will find for this literal string\n',
    'Makefile.PL': 'use ExtUtils::MakeMaker;\n',
    Changes: 'Revision history for Plack\n',
  });
});
afterAll(() => tree.cleanup());

function staticStack(root: string): App {
  return lint(
    builder(({ enable }) => {
      enable(
        serveStatic({ path: (p) => p.startsWith('/share/') && p.slice('/share'.length), root: join(root, 'share') }),
      );
      enable(
        serveStatic({
          path: (p, env) => env.PATH_INFO.startsWith('/more_share/') && p.slice('/more_share'.length),
          root: join(root, 'share'),
        }),
      );
      enable(
        serveStatic({
          path: (p) => p.startsWith('/share-pass/') && p.slice('/share-pass'.length),
          root: join(root, 'share'),
          passThrough: true,
        }),
      );
      enable(serveStatic({ path: /\.(t|PL|txt)$/i, root }));
      // Plack's test strips the last character of the table's type; we get the same type another way.
      enable(
        serveStatic({
          path: /\.foo$/i,
          root,
          contentType: (p) => (p.endsWith('.foo') ? 'text/x-foo' : mime.lookup(p) || undefined),
        }),
      );
      return okApp;
    }),
  );
}

describe.each(['inprocess', 'server'] as TestMode[])('Plack expectations (%s)', (mode) => {
  it('static.t: serves matching files with their type and content, 403 for traversal, 404 for missing', async () => {
    await testApp(
      staticStack(tree.root),
      async (request) => {
        const txt = await request('/t/test.txt');
        expect(txt.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(txt.text).toBe('foo\n');
        expect((await request('/..%2f..%2f..%2fetc%2fpasswd.t')).status).toBe(403);
        expect((await request('/..%2fMakefile.PL')).status).toBe(403);
        const missing = await request('/foo/not_found.t');
        expect(missing.status).toBe(404);
        expect(missing.text).toBe('not found');
        expect((await request('/share/face.jpg')).headers['content-type']).toBe('image/jpeg');
        expect((await request('/more_share/face.jpg')).headers['content-type']).toBe('image/jpeg');
        const pass = await request('/share-pass/faceX.jpg');
        expect(pass.status).toBe(200);
        expect(pass.text).toBe('ok');
        expect((await request('/t/Plack-Middleware/static.txt')).headers['content-type']).toBe(
          'text/plain; charset=utf-8',
        );
        expect((await request('/t/Plack-Middleware/static.foo')).headers['content-type']).toBe(
          'text/x-foo; charset=utf-8',
        );
      },
      { mode },
    );
  });

  it('static-methods.t: GET and HEAD are served, POST is 405', async () => {
    const app = lint(
      serveStatic({ path: (p) => p.startsWith('/share/') && p.slice('/share'.length), root: join(tree.root, 'share') })(
        okApp,
      ),
    );
    await testApp(
      app,
      async (request) => {
        expect((await request('/share/face.jpg')).headers['content-type']).toBe('image/jpeg');
        expect((await request('/share/face.jpg', { method: 'HEAD' })).headers['content-type']).toBe('image/jpeg');
        expect((await request('/share/face.jpg', { method: 'POST', body: 'x' })).status).toBe(405);
      },
      { mode },
    );
  });

  it('file.t: one file for every path, with the table type or a custom one', async () => {
    await testApp(
      lint(fileApp({ file: join(tree.root, 'Changes') })),
      async (request) => {
        const root = await request('/');
        expect(root.status).toBe(200);
        expect(root.text).toBe('Revision history for Plack\n');
        const other = await request('/whatever');
        expect(other.status).toBe(200);
        expect(other.headers['content-type']).toBe('text/plain; charset=utf-8');
      },
      { mode },
    );
    await testApp(
      lint(fileApp({ file: join(tree.root, 'Changes'), contentType: 'text/x-changes' })),
      async (request) => {
        expect((await request('/whatever')).headers['content-type']).toBe('text/x-changes; charset=utf-8');
      },
      { mode },
    );
  });

  it('file.t: a root refuses traversal with 403 and a file with trailing slashes with 404', async () => {
    await testApp(
      lint(fileApp({ root: join(tree.root, 't/Plack-Middleware') })),
      async (request) => {
        const file = await request('/file.t');
        expect(file.status).toBe(200);
        expect(file.text).toBe('# We will find for this literal string\n');
        const up = await request('/../Plack-Middleware/file.t');
        expect(up.status).toBe(403);
        expect(up.text).toBe('forbidden');
        for (let i = 1; i <= 100; i++) {
          const res = await request(`/file.t${'/'.repeat(i)}`);
          expect(res.status).toBe(404);
          expect(res.text).toBe('not found');
        }
      },
      { mode },
    );
  });
});
