import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from '@plank/core';
import { listen } from '@plank/test';
import { describe, expect, it } from 'vitest';

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = await mkdtemp(join(new URL('.', import.meta.url).pathname, '.readme-'));
    try {
      await writeFile(join(dir, 'app.ts'), code as string);
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      const server = await listen(app);
      try {
        const health = await fetch(`${server.url}health`);
        expect([health.status, await health.text()]).toEqual([200, 'OK\n']);
        expect(await (await fetch(server.url)).text()).toBe('hello\n');
      } finally {
        await server.close({ timeout: 100 });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
