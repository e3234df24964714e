import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printed } from './spawn.fixture.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// The README promises its builder example runs as written; this runs it (on port 0).
describe('the README builder example', () => {
  it('runs as written and serves its mounts through its middleware', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## A builder app'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain('builder(');
    const dir = join(root, 'test/e2e/.tmp');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-example.ts');
    writeFileSync(file, (code as string).replace('port: 5000', 'port: 0'));
    // tsx as a loader in this very process (its CLI would run the example in a grandchild that
    // outlives the kill below).
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await printed(child, /listening on (\S+)/);
      const api = await fetch(new URL('/api', url));
      expect(await api.json()).toEqual({ ok: true });
      expect(api.headers.get('x-local')).toBe('yes');
      expect(api.headers.get('x-runtime')).toMatch(/^\d+\.\d{6}$/);
      const page = await fetch(new URL('/x', url));
      expect(await page.text()).toBe('Hello from /x\n');
      expect(page.headers.get('content-length')).toBe('14');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
