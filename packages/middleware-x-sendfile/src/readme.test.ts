import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    const dir = mkdtempSync(join(tmpdir(), 'plank-x-sendfile-readme-'));
    try {
      mkdirSync(join(dir, 'files'));
      writeFileSync(join(dir, 'files/big.iso'), 'iso');
      // The synopsis serves /srv; the test serves its own directory in its place.
      writeFileSync(join(dir, 'app.ts'), (code as string).replace("root: '/srv'", `root: ${JSON.stringify(dir)}`));
      const app = (await import(/* @vite-ignore */ join(dir, 'app.ts'))).default as App;
      await testApp(lint(app), async (request) => {
        const headers = { 'X-Sendfile-Type': 'X-Accel-Redirect', 'X-Accel-Mapping': `${dir}/files/=/protected/` };
        const viaNginx = await request('/files/big.iso', { headers, remoteAddr: '127.0.0.1' });
        expect(viaNginx.headers['x-accel-redirect']).toBe('/protected/big.iso');
        expect(viaNginx.text).toBe('');
        const direct = await request('/files/big.iso', { headers, remoteAddr: '198.51.100.7' });
        expect(direct.text).toBe('iso');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
