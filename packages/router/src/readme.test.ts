import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    // Beside the package, so its imports resolve as they would in a user's project.
    const dir = await mkdtemp(join(new URL('.', import.meta.url).pathname, '.readme-'));
    try {
      const file = join(dir, 'app.ts');
      await writeFile(file, code as string);
      const app = (await import(/* @vite-ignore */ file)).default as App;
      await testApp(app, async (request) => {
        expect((await request('/')).text).toBe('home');
        expect(JSON.parse((await request('/users/42')).text)).toEqual({ id: '42' });
        expect((await request('/users', { method: 'POST', body: '' })).status).toBe(201);
        expect(JSON.parse((await request('/files/a/b.txt')).text)).toEqual({ file: 'a/b.txt' });
        expect((await request('/users/42', { method: 'PUT', body: '' })).status).toBe(405);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
