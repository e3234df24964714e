import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builder, lint, type Env } from '@plank/core';
import { serveStatic } from '@plank/middleware-static';
import type { ServerHandle } from '@plank/server-node';
import { listen, type Peer, startNginx, which } from '@plank/test';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { xsendfile } from './index.js';

type Got = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

const nginx = which('nginx');

describe.skipIf(!nginx && !process.env.CI)('XSendfile behind a real nginx', () => {
  let dir = '';
  let app: ServerHandle | undefined;
  let proxy: Peer | undefined;
  let port = 0;
  const big = '0123456789'.repeat(100_000);

  beforeAll(async () => {
    if (!nginx) throw new Error('nginx is not installed (CI must have it: apt-get install nginx)');
    dir = await mkdtemp(join(tmpdir(), 'plank-xsendfile-nginx-'));
    await mkdir(join(dir, 'files'));
    await writeFile(join(dir, 'files/report.txt'), big);
    await writeFile(join(dir, 'files/a b.txt'), 'spaced name\n');
    const stack = builder(({ enable }) => {
      // Only nginx, on 127.0.0.1, may say how to hand files over.
      enable(xsendfile({ trusted: (env: Env) => env.REMOTE_ADDR === '127.0.0.1' }));
      enable(serveStatic({ path: /^\/files\//, root: dir }));
      return () => [404, ['Content-Type', 'text/plain'], ['not found']];
    });
    app = await listen(lint(stack));
    proxy = await startNginx(`
    location / {
      proxy_pass http://127.0.0.1:${app.port};
      proxy_set_header X-Sendfile-Type X-Accel-Redirect;
      proxy_set_header X-Accel-Mapping ${dir}/files/=/protected/;
    }
    location /protected/ {
      internal;
      alias ${dir}/files/;
    }
`);
    port = proxy.port;
  });

  afterAll(async () => {
    await proxy?.stop();
    await app?.close({ timeout: 1000 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('nginx serves the whole file the app pointed it to, with the type Static chose', async () => {
    const res = await get(port, '/files/report.txt');
    expect(res.status).toBe(200);
    expect(res.body).toBe(big);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['x-accel-redirect']).toBeUndefined();
  });

  test('nginx answers a range itself from the redirected file', async () => {
    const res = await get(port, '/files/report.txt', { Range: 'bytes=10-19' });
    expect(res.status).toBe(206);
    expect(res.body).toBe('0123456789');
  });

  test('a name with a space survives the percent-encoded redirect', async () => {
    const res = await get(port, '/files/a%20b.txt');
    expect(res.status).toBe(200);
    expect(res.body).toBe('spaced name\n');
  });

  test('asked directly, without the headers nginx adds, the app serves the file itself', async () => {
    const res = await get(app?.port as number, '/files/a%20b.txt');
    expect(res.status).toBe(200);
    expect(res.body).toBe('spaced name\n');
    expect(res.headers['x-accel-redirect']).toBeUndefined();
  });
});
