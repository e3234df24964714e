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
    const dir = mkdtempSync(join(tmpdir(), 'plank-auth-basic-readme-'));
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const denied = await request('/');
        expect(denied.status).toBe(401);
        expect(denied.headers['www-authenticate']).toBe('Basic realm="admin area", charset="UTF-8"');
        const auth = `Basic ${Buffer.from('admin:s3cr3t').toString('base64')}`;
        expect((await request('/', { headers: { Authorization: auth } })).text).toBe('Hello admin');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
