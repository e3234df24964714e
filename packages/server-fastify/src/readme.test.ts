import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The synopsis imports 'fastify' and '@plank/server-fastify' by name, so it runs from a
// scratch directory inside this package (ignored by git), where node resolves both; the
// package itself resolves to its build (dist/), as for every child process in the tests.
const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('the README', () => {
  it('has a Synopsis that runs as written', async () => {
    const readme = await readFile(join(packageDir, 'README.md'), 'utf8');
    const code = /## Synopsis\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    await mkdir(join(packageDir, '.tmp'), { recursive: true });
    const dir = await mkdtemp(join(packageDir, '.tmp', 'readme-'));
    const file = join(dir, 'server.mjs');
    await writeFile(file, code as string);
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`no address printed in 15 s: ${out}${err}`)), 15_000);
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const line = /^(http:\S+)\n/m.exec(out);
          if (line) {
            clearTimeout(timer);
            resolve(line[1] as string);
          }
        });
        child.once('exit', (status) => {
          clearTimeout(timer);
          reject(new Error(`the synopsis exited with ${status}: ${err}`));
        });
      });
      const mounted = await fetch(`${url}/legacy/hello`);
      expect(await mounted.text()).toBe('/legacy /hello\n');
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ ok: true });
    } finally {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
