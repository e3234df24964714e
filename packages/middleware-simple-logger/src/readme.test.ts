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
    const dir = mkdtempSync(join(tmpdir(), 'plank-simple-logger-readme-'));
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir, 'app.ts'), code as string);
      // The synopsis writes logs/app.log relative to where it runs, as plankup would run it.
      process.chdir(dir);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const res = await request('/hi');
        const log = readFileSync(join(dir, 'logs/app.log'), 'utf8');
        expect(log).toMatch(
          new RegExp(
            `^I \\[[\\d-]+T[\\d:]+ #${process.pid} ${res.headers['x-request-id']}\\] INFO: hello from /hi\\n$`,
          ),
        );
      });
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
