import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App, Response } from '@plank/core';
import { call, fakeEnv, makeTree } from './helpers.fixture.js';
import { fileApp } from './index.js';

let tree: ReturnType<typeof makeTree>;
beforeAll(() => {
  tree = makeTree({
    'a.txt': 'one',
    'b.txt': 'bee',
    'c.txt': 'sea',
    'd/index.html': 'dir',
    'm1.txt': 'memory one',
    'm2.txt': 'memory two',
    'big.txt': 'x'.repeat(5000),
  });
});
afterAll(() => tree.cleanup());

const isSync = (app: App, path: string): boolean => !((app(fakeEnv(path)) as unknown) instanceof Promise);

// Waits for a condition that an inotify event makes true; bounded, never a timing assertion.
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  // Until the event arrives the old entry may still name a file that is gone: reading it fails.
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('metadata cache', () => {
  it('answers a hot file synchronously by default, with no file-system call', async () => {
    const app = fileApp({ root: tree.root });
    expect(isSync(app, '/a.txt')).toBe(false);
    await call(app, '/a.txt');
    expect(isSync(app, '/a.txt')).toBe(true);
    const res = app(fakeEnv('/a.txt')) as Response;
    expect(res[0]).toBe(200);
  });

  it('looks every request up on disk with cache: false', async () => {
    const app = fileApp({ root: tree.root, cache: false });
    await call(app, '/a.txt');
    expect(isSync(app, '/a.txt')).toBe(false);
  });

  it('caches index lookups too', async () => {
    const app = fileApp({ root: tree.root, cache: true });
    await call(app, '/d/');
    expect(isSync(app, '/d/')).toBe(true);
    expect((await call(app, '/d/')).body.toString()).toBe('dir');
  });

  it('drops an entry as soon as the file changes, long before the ttl', async () => {
    const path = join(tree.root, 'b.txt');
    const app = fileApp({ root: tree.root, cache: { ttl: 600_000 } });
    expect((await call(app, '/b.txt')).body.toString()).toBe('bee');
    writeFileSync(path, 'bumblebee');
    await eventually(async () => (await call(app, '/b.txt')).get('content-length') === '9');
    expect((await call(app, '/b.txt')).body.toString()).toBe('bumblebee');
  });

  it('sees a file replaced by rename and a file removed', async () => {
    const app = fileApp({ root: tree.root, cache: { ttl: 600_000 } });
    expect((await call(app, '/c.txt')).body.toString()).toBe('sea');
    writeFileSync(join(tree.root, 'c.tmp'), 'ocean!');
    renameSync(join(tree.root, 'c.tmp'), join(tree.root, 'c.txt'));
    await eventually(async () => (await call(app, '/c.txt')).get('content-length') === '6');
    rmSync(join(tree.root, 'c.txt'));
    await eventually(async () => (await call(app, '/c.txt')).status === 404);
  });

  it('looks again after ttl and keeps at most maxEntries paths', async () => {
    const expiring = fileApp({ root: tree.root, cache: { ttl: 0 } });
    await call(expiring, '/a.txt');
    expect(isSync(expiring, '/a.txt')).toBe(false);
    const small = fileApp({ root: tree.root, cache: { maxEntries: 1 } });
    await call(small, '/a.txt');
    await call(small, '/d/index.html');
    expect(isSync(small, '/a.txt')).toBe(false);
  });

  it('answers every path right while more distinct paths arrive than it keeps', async () => {
    const app = fileApp({ root: tree.root, cache: { maxEntries: 2 } });
    for (let round = 0; round < 2; round++) {
      expect((await call(app, '/a.txt')).body.toString()).toBe('one');
      expect((await call(app, '/b.txt')).status).toBe(200);
      expect((await call(app, '/d/')).body.toString()).toBe('dir');
      expect((await call(app, '/d')).status).toBe(301);
      expect((await call(app, '/.hidden')).status).toBe(404);
      expect((await call(app, '/d/../a.txt')).status).toBe(403);
      expect((await call(app, '/nope.txt')).status).toBe(404);
    }
  });

  it('does not cache missing files', async () => {
    const app = fileApp({ root: tree.root, cache: true });
    expect((await call(app, '/later.txt')).status).toBe(404);
    writeFileSync(join(tree.root, 'later.txt'), 'now');
    expect((await call(app, '/later.txt')).body.toString()).toBe('now');
  });
});

describe('content cache', () => {
  // The bytes are read in the background after the first lookup: wait until a response carries them.
  const inMemory = (res: Response): boolean =>
    Array.isArray(res[2]) && res[2].length === 1 && Buffer.isBuffer(res[2][0]);
  const warm = async (app: App, path: string): Promise<Response> => {
    let res = (await app(fakeEnv(path))) as Response;
    await eventually(async () => inMemory((res = (await app(fakeEnv(path))) as Response)), 2000).catch(() => undefined);
    return res;
  };

  it('sends a small hot file from memory by default, ranges cut from the same bytes', async () => {
    const app = fileApp({ root: tree.root });
    const res = await warm(app, '/m1.txt');
    expect(inMemory(res)).toBe(true);
    expect((await call(app, '/m1.txt')).body.toString()).toBe('memory one');
    const part = app(fakeEnv('/m1.txt', { Range: 'bytes=7-9' })) as Response;
    expect(part[0]).toBe(206);
    expect(Buffer.concat(part[2] as Buffer[]).toString()).toBe('one');
    expect((app(fakeEnv('/m1.txt', {}, 'HEAD')) as Response)[2]).toEqual([]);
  });

  it('keeps nothing above maxFileSize and no more than maxBytes in all', async () => {
    const app = fileApp({ root: tree.root, cache: { maxFileSize: 4096, maxBytes: 12 } });
    expect(inMemory(await warm(app, '/big.txt'))).toBe(false);
    expect(inMemory(await warm(app, '/m1.txt'))).toBe(true);
    // 10 bytes kept, 12 allowed: the second 10-byte file is served from disk.
    expect(inMemory(await warm(app, '/m2.txt'))).toBe(false);
    expect((await call(app, '/m2.txt')).body.toString()).toBe('memory two');
    const metadataOnly = fileApp({ root: tree.root, cache: { maxBytes: 0 } });
    expect(inMemory(await warm(metadataOnly, '/m1.txt'))).toBe(false);
  });

  it('serves the new bytes once a file kept in memory changes', async () => {
    const path = join(tree.root, 'm2.txt');
    const app = fileApp({ root: tree.root, cache: { ttl: 600_000 } });
    expect(inMemory(await warm(app, '/m2.txt'))).toBe(true);
    writeFileSync(path, 'memory two, edited');
    await eventually(async () => (await call(app, '/m2.txt')).body.toString() === 'memory two, edited');
    writeFileSync(path, 'memory two');
  });
});
