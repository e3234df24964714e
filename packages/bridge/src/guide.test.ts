import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { App } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';

// docs/from-express.md promises that its ts blocks run as written.
const guide = await readFile(new URL('../../../docs/from-express.md', import.meta.url), 'utf8');
const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);

async function load(code: string): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(new URL('.', import.meta.url).pathname, '.guide-'));
  try {
    await writeFile(join(dir, 'block.ts'), code);
    return await import(/* @vite-ignore */ join(dir, 'block.ts'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('docs/from-express.md', () => {
  it('has three ts blocks', () => {
    expect(blocks).toHaveLength(3);
  });

  it('routes users as the Routes block says', async () => {
    const app = (await load(blocks[0] as string)).default as App;
    await testApp(app, async (request) => {
      expect(JSON.parse((await request('/users/1')).text)).toEqual({ name: 'Ada' });
      expect((await request('/users/9')).status).toBe(404);
      const created = await request('/users', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"name":"Grace"}',
      });
      expect(created.status).toBe(201);
      expect(JSON.parse((await request('/users/2')).text)).toEqual({ name: 'Grace' });
      const old = await request('/old-users/2');
      expect([old.status, old.headers.location]).toEqual([301, '/users/2']);
    });
  });

  it('moves a route to Plank and leaves the rest to express, behind helmet', async () => {
    const app = (await load(blocks[1] as string)).default as App;
    await testApp(app, async (request) => {
      const health = await request('/health');
      expect(health.text).toBe('ok');
      expect(health.headers['x-content-type-options']).toBe('nosniff');
      const reports = await request('/reports');
      expect(reports.text).toBe('reports, still in express');
      expect(reports.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  it('types an env key through an accessor', async () => {
    const { currentUser } = (await load(blocks[2] as string)) as { currentUser: (env: unknown) => unknown };
    expect(currentUser({ 'myapp.user': { id: '1', name: 'Ada' } })).toEqual({ id: '1', name: 'Ada' });
  });
});
