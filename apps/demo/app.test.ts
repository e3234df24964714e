import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';

const logs = mkdtempSync(join(tmpdir(), 'plank-demo-'));
process.env.DEMO_LOG_DIR = logs;
process.env.DEMO_STATE_DIR = mkdtempSync(join(tmpdir(), 'plank-demo-state-'));
const { default: app } = await import('./app.js');

describe('apps/demo', () => {
  it('serves its page, its static files and the client address a loopback proxy gave', async () => {
    await testApp(
      app,
      async (request) => {
        const page = await request('/', { headers: { 'X-Forwarded-For': '203.0.113.9' } });
        expect(page.status).toBe(200);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.text).toContain('<h1>Plank is running</h1>');
        expect(page.text).toContain('<code>203.0.113.9</code>');
        // RequestId: a fresh id (the client sent none), in the header and on the page.
        const id = page.headers['x-request-id'] as string;
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        expect(page.text).toContain(`<code>${id}</code>`);
        // Deflater: compressed for a client that asks, with Vary.
        const gz = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
        expect(gz.headers['content-encoding']).toBe('gzip');
        expect(gz.headers.vary).toContain('Accept-Encoding');
        expect(gunzipSync(gz.body).toString()).toContain('<h1>Plank is running</h1>');

        const css = await request('/static/site.css');
        expect(css.status).toBe(200);
        expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
        expect(css.headers.etag).toBeDefined();
        expect(css.text).toContain('font:');

        expect((await request('/nope')).status).toBe(404);
        expect((await request('/static/../app.ts')).status).toBe(403);
      },
      { mode: 'server' },
    );
  });

  it('shows the status page to loopback clients only, after ReverseProxy has found the real client', async () => {
    await testApp(
      app,
      async (request) => {
        const status = await request('/server-status');
        expect(status.status).toBe(200);
        expect(status.text).toMatch(/^Total Accesses: \d+$/m);
        expect(status.text).toContain('pid status remote_addr host method uri protocol ss');
        const forwarded = await request('/server-status', { headers: { 'X-Forwarded-For': '198.51.100.7' } });
        expect(forwarded.status).toBe(403);
      },
      { mode: 'server' },
    );
  });

  it('logs every request in combined format to the daily file', async () => {
    await testApp(
      app,
      async (request) => {
        await request('/?logged=1', { headers: { 'User-Agent': 'demo-test' } });
      },
      { mode: 'server' },
    );
    const deadline = Date.now() + 5000;
    let text = '';
    while (!text.includes('logged=1') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      const file = readdirSync(logs).find((f) => /^access\.\d{4}-?\d{2}-?\d{2}.*\.log$/.test(f));
      text = file ? readFileSync(join(logs, file), 'utf8') : '';
    }
    expect(text).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/\?logged=1 HTTP\/1\.1" 200 \d+ "-" "demo-test"$/m);
  });
});
