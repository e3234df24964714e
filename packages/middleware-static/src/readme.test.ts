import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lint, type App } from '@plank/core';
import { testApp } from '@plank/test';

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'plank-static-readme-'));
    const files: Record<string, string | Buffer> = {
      'htdocs/css/site.css': 'body{}',
      'htdocs/robots.txt': 'User-agent: *',
      'static-files/logo.txt': 'LOGO',
      'dist/app.1234.js': 'app()',
      'dist/app.1234.js.br': brotliCompressSync('app()'),
      'public/notes.txt': 'notes',
    };
    try {
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      writeFileSync(join(dir, 'app.ts'), code as string);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        expect((await request('/css/site.css')).text).toBe('body{}');
        expect((await request('/static/logo.txt')).text).toBe('LOGO');
        const asset = await request('/assets/app.1234.js', { headers: { 'Accept-Encoding': 'br' } });
        expect(asset.headers['content-encoding']).toBe('br');
        expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect((await request('/robots.txt')).text).toBe('User-agent: *');
        expect((await request('/pub/')).text).toContain('notes.txt');
        expect((await request('/other')).text).toBe('the app');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
