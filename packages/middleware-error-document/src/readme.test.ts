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
    const dir = mkdtempSync(join(tmpdir(), 'plank-error-document-readme-'));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      process.chdir(dir);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const missing = await request('/nowhere');
        expect(missing.status).toBe(404);
        expect(missing.text).toBe('<h1>Not here</h1>\n');
        const boom = await request('/boom');
        expect(boom.status).toBe(500);
        expect(boom.text).toBe('<h1>Sorry</h1>\n');
      });
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
