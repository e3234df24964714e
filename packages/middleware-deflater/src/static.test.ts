// Deflater in front of Static: precompressed siblings go out as Static chose them (never
// compressed twice), other files are compressed from their file bodies, and ranges of a
// file are sent as the plain slice Static cut.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { builder, lint } from '@plank/core';
import { serveStatic } from '@plank/middleware-static';
import { testApp } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflater } from './index.js';

const script = `console.log(${JSON.stringify('x'.repeat(5000))});\n`;
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'plank-deflater-static-'));
  writeFileSync(join(root, 'app.js'), script);
  writeFileSync(join(root, 'app.js.br'), zlib.brotliCompressSync(script));
  writeFileSync(join(root, 'plain.js'), script);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Deflater in front of Static', () => {
  const app = () =>
    lint(
      builder(({ enable }) => {
        enable(deflater());
        enable(serveStatic({ path: /\.js$/, root, precompressed: ['br'] }));
        return () => [404, ['Content-Type', 'text/plain'], ['not found']];
      }),
    );

  it("sends Static's precompressed .br file as it is, not compressed again", async () => {
    await testApp(app(), async (request) => {
      const res = await request('/app.js', { headers: { 'Accept-Encoding': 'br, gzip' } });
      expect(res.headers['content-encoding']).toBe('br');
      expect(zlib.brotliDecompressSync(res.body).toString()).toBe(script);
    });
  });

  it('compresses a file body Static streams, and leaves a range of it alone', async () => {
    await testApp(app(), async (request) => {
      const res = await request('/plain.js', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers['accept-ranges']).toBeUndefined();
      expect(res.headers.etag).toMatch(/^W\//);
      expect(zlib.gunzipSync(res.body).toString()).toBe(script);
      const range = await request('/plain.js', { headers: { 'Accept-Encoding': 'gzip', Range: 'bytes=0-10' } });
      expect(range.status).toBe(206);
      expect(range.headers['content-encoding']).toBeUndefined();
      expect(range.text).toBe(script.slice(0, 11));
    });
  });
});
