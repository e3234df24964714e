import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, makeTree } from './helpers.fixture.js';
import { acceptsCoding } from './serve.js';
import { fileApp } from './index.js';

const text = 'x'.repeat(2000);
let tree: ReturnType<typeof makeTree>;

beforeAll(() => {
  tree = makeTree({
    'app.js': text,
    'app.js.gz': gzipSync(text),
    'app.js.br': brotliCompressSync(text),
    'only-gz.css': text,
    'only-gz.css.gz': gzipSync(text),
    'plain.txt': text,
    '.secret.gz': 'hidden',
  });
  const t = new Date('2024-01-01T00:00:00Z');
  utimesSync(join(tree.root, 'app.js.br'), t, t);
});
afterAll(() => tree.cleanup());

describe('precompressed variants', () => {
  const app = (): ReturnType<typeof fileApp> => fileApp({ root: tree.root, precompressed: ['br', 'gzip'] });

  it('serves the first configured coding the client accepts, with the original type', async () => {
    const br = await call(app(), '/app.js', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(br.get('content-encoding')).toBe('br');
    expect(br.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(br.get('content-length')).toBe(String(brotliCompressSync(text).length));
    expect(br.get('vary')).toBe('Accept-Encoding');
    expect(br.get('last-modified')).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    const gz = await call(app(), '/app.js', { 'Accept-Encoding': 'gzip' });
    expect(gz.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(text);
  });

  it('falls back to the next coding, then to the file itself', async () => {
    expect((await call(app(), '/only-gz.css', { 'Accept-Encoding': 'br, gzip' })).get('content-encoding')).toBe('gzip');
    const plain = await call(app(), '/plain.txt', { 'Accept-Encoding': 'br, gzip' });
    expect(plain.get('content-encoding')).toBeUndefined();
    expect(plain.get('vary')).toBe('Accept-Encoding');
    expect(plain.body.toString()).toBe(text);
  });

  it('respects q=0, including through *', async () => {
    expect((await call(app(), '/app.js', { 'Accept-Encoding': 'br;q=0, gzip' })).get('content-encoding')).toBe('gzip');
    expect((await call(app(), '/app.js', { 'Accept-Encoding': '*;q=0' })).get('content-encoding')).toBeUndefined();
    expect((await call(app(), '/app.js', { 'Accept-Encoding': '*' })).get('content-encoding')).toBe('br');
    expect((await call(app(), '/app.js')).get('content-encoding')).toBeUndefined();
  });

  it('gives each variant its own ETag, so a 304 never confirms the wrong bytes', async () => {
    const br = await call(app(), '/app.js', { 'Accept-Encoding': 'br' });
    const id = await call(app(), '/app.js');
    expect(br.get('etag')).not.toBe(id.get('etag'));
    expect(
      (await call(app(), '/app.js', { 'Accept-Encoding': 'br', 'If-None-Match': br.get('etag') as string })).status,
    ).toBe(304);
    expect((await call(app(), '/app.js', { 'If-None-Match': br.get('etag') as string })).status).toBe(200);
  });

  it('with the cache, gives a variant asked for by name the same ETag as without it', async () => {
    const cached = fileApp({ root: tree.root, precompressed: ['gzip'], cache: true });
    const asVariant = await call(cached, '/only-gz.css', { 'Accept-Encoding': 'gzip' });
    const byName = await call(cached, '/only-gz.css.gz');
    const uncached = await call(fileApp({ root: tree.root, precompressed: ['gzip'], cache: false }), '/only-gz.css.gz');
    expect(asVariant.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+-gzip"$/);
    expect(byName.get('etag')).toBe(uncached.get('etag'));
    expect(byName.get('etag')).toBe(asVariant.get('etag')?.replace('-gzip"', '"'));
  });

  it('serves ranges of the variant bytes', async () => {
    const res = await call(app(), '/app.js', { 'Accept-Encoding': 'gzip', Range: 'bytes=0-9' });
    expect(res.status).toBe(206);
    expect(res.get('content-encoding')).toBe('gzip');
    expect(res.body.equals(gzipSync(text).subarray(0, 10))).toBe(true);
  });

  it('does not look for variants when the option is off', async () => {
    const res = await call(fileApp({ root: tree.root }), '/app.js', { 'Accept-Encoding': 'br, gzip' });
    expect(res.get('content-encoding')).toBeUndefined();
    expect(res.get('vary')).toBeUndefined();
  });
});

describe('acceptsCoding', () => {
  it('reads names case-insensitively with q-values and x-gzip', () => {
    expect(acceptsCoding('GZIP;Q=0.5', 'gzip')).toBe(true);
    expect(acceptsCoding('x-gzip', 'gzip')).toBe(true);
    expect(acceptsCoding('gzip;q=0.0', 'gzip')).toBe(false);
    expect(acceptsCoding('deflate', 'br')).toBe(false);
    expect(acceptsCoding('br;q=0, *', 'br')).toBe(false);
  });
});
