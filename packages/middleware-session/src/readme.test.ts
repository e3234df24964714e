import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lint, type App } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'plank-session-readme-'));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      process.chdir(dir);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const first = await request('/');
        const cookie = (first.headers['set-cookie'] ?? '').split(';')[0] as string;
        expect(first.text).toBe('visits: 1\n');
        expect((await request('/', { headers: { Cookie: cookie } })).text).toBe('visits: 2\n');
        const login = await request('/login', { headers: { Cookie: cookie } });
        const renewed = (login.headers['set-cookie'] ?? '').split(';')[0] as string;
        expect(renewed).not.toBe(cookie);
        expect((await request('/', { headers: { Cookie: renewed } })).text).toBe('visits: 4\n');
        expect((await request('/logout', { headers: { Cookie: renewed } })).headers['set-cookie']).toMatch(/Max-Age=0/);
      });
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
