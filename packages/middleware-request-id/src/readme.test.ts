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
    const dir = mkdtempSync(join(tmpdir(), 'plank-request-id-readme-'));
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const res = await request('/', { headers: { 'X-Request-Id': 'from-nginx-1' }, remoteAddr: '127.0.0.1' });
        expect(res.headers['x-request-id']).toBe('from-nginx-1');
        expect(res.text).toBe('request from-nginx-1\n');
        const forged = await request('/', { headers: { 'X-Request-Id': 'forged' }, remoteAddr: '203.0.113.9' });
        expect(forged.headers['x-request-id']).not.toBe('forged');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
