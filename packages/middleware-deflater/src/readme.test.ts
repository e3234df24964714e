import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { lint, type App } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'plank-deflater-readme-'));
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const res = await request('/api/items', { headers: { 'Accept-Encoding': 'gzip' } });
        expect(res.headers['content-encoding']).toBe('gzip');
        expect(gunzipSync(res.body).toString().slice(0, 24)).toBe('[{"id":0,"name":"item 0"');
        expect((await request('/nothing', { headers: { 'Accept-Encoding': 'gzip' } })).text).toBe('not found');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
