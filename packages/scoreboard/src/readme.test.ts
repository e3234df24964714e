import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

describe('the README', () => {
  it('has a Synopsis that runs as written and prints this process with its count', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'plank-readme-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const file = join(dir, 'synopsis.ts');
      await writeFile(file, code as string);
      await import(/* @vite-ignore */ file);
      expect(log.mock.calls).toEqual([[[`${process.pid} idle`], { requests: 1, bytes: 2048 }]]);
    } finally {
      log.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
