import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import type { App } from './index.js';

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'plank-readme-'));
    try {
      const file = join(dir, 'app.ts');
      await writeFile(file, code as string);
      const app = (await import(/* @vite-ignore */ file)).default as App;
      await testApp(app, async (request) => {
        const res = await request('/?name=Ada');
        expect(res.status).toBe(200);
        expect(res.text).toBe('Hello Ada');
        expect(res.headers).toMatchObject({
          'content-length': '9',
          'set-cookie': 'visited=1; Path=/; HttpOnly; SameSite=Lax',
        });
        expect(res.headers['x-runtime']).toMatch(/^\d+\.\d{6}$/);
        expect((await request('/nope')).status).toBe(404);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has a urlMap example that runs as written', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```ts\n {2}\/\/ urlmap\.ts[^\n]*\n([\s\S]*?) {2}```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'plank-readme-'));
    try {
      const file = join(dir, 'urlmap.ts');
      await writeFile(file, (code as string).replace(/^ {2}/gm, ''));
      const app = (await import(/* @vite-ignore */ file)).default as App;
      await testApp(app, async (request) => {
        expect((await request('/api/users')).text).toBe('api /api|/users');
        expect((await request('/api')).text).toBe('api /api|');
        const docs = await request('/docs?v=2');
        expect([docs.status, docs.headers.location]).toEqual([301, '/docs/?v=2']);
        expect((await request('/docs/a.html')).text).toBe('<a href="next.html">/a.html</a>');
        expect((await request('/x', { headers: { Host: 'admin.example.com' } })).text).toBe('main /x');
        expect((await request('/other')).text).toBe('main /other');
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
