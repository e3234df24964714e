import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { App } from '@plank/core';
import { testApp } from '@plank/test';

describe('the README', () => {
  it('has a Synopsis that runs as written and serves the status page to 127.0.0.1', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'plank-readme-'));
    const state = await mkdtemp(join(tmpdir(), 'plank-readme-state-'));
    try {
      const file = join(dir, 'app.ts');
      // The same code, with its state under a fresh directory instead of /run/myapp.
      await writeFile(file, (code as string).replaceAll('/run/myapp', state));
      const app = (await import(/* @vite-ignore */ file)).default as App;
      await testApp(
        app,
        async (request) => {
          expect((await request('/')).text).toBe('Hello');
          const page = await request('/server-status');
          expect(page.text).toMatch(/\nTotal Accesses: 1\n/);
          expect((await request('/server-status', { remoteAddr: '192.0.2.1' })).status).toBe(403);
        },
        { mode: 'inprocess' },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(state, { recursive: true, force: true });
    }
  });
});
