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
    const dir = mkdtempSync(join(tmpdir(), 'plank-cross-origin-readme-'));
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const pre = await request('/api/items', {
          method: 'OPTIONS',
          headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'PUT' },
        });
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(pre.headers['access-control-max-age']).toBe('600');
        const get = await request('/api/items', { headers: { Origin: 'https://qa.staging.example.com' } });
        expect(get.headers['access-control-allow-credentials']).toBe('true');
        expect(get.headers['access-control-expose-headers']).toBe('X-Request-Id');
        expect((await request('/api/items', { headers: { Origin: 'https://evil.test' } })).status).toBe(403);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
