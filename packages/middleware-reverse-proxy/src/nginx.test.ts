import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lint, type App } from '@plank/core';
import type { ServerHandle } from '@plank/server-node';
import { freePort, listen, which } from '@plank/test';
import { reverseProxy } from '@plank/middleware-reverse-proxy';

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nginx did not listen on ${port} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Seen = { addr: string; peer: string | null; scheme: string; host: string };

/** GET / on 127.0.0.1:port from `localAddress`, which the whole 127/8 loopback lets us choose. */
function get(port: number, localAddress: string, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', localAddress, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text) as Seen);
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

const nginx = which('nginx');

describe.skipIf(!nginx && !process.env.CI)('behind a real nginx', () => {
  let dir = '';
  let app: ServerHandle | undefined;
  let proxy: ChildProcess | undefined;
  let proxyPort = 0;

  beforeAll(async () => {
    if (!nginx) throw new Error('nginx is not installed (CI must have it: apt-get install nginx)');
    const echo: App = (env) => [
      200,
      ['Content-Type', 'application/json'],
      [
        JSON.stringify({
          addr: env.REMOTE_ADDR,
          peer: env['plank.reverse_proxy.peer_addr'] ?? null,
          scheme: env['psgi.url_scheme'],
          host: env.HTTP_HOST,
        }),
      ],
    ];
    // Only nginx's own address is a proxy: any other loopback address is a client.
    app = await listen(lint(reverseProxy({ trusted: ['127.0.0.1'] })(lint(echo))));
    dir = await mkdtemp(join(tmpdir(), 'plank-rp-nginx-'));
    proxyPort = await freePort();
    const conf = `
daemon off;
master_process off;
user ${userInfo().username};
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${proxyPort};
    location / {
      proxy_pass http://127.0.0.1:${app.port};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    proxy = spawn(nginx, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proxy.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      await waitForPort(proxyPort, proxy, 10_000);
    } catch (err) {
      const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`${(err as Error).message}\n${stderr}\n${log}`);
    }
  });

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy?.once('exit', r));
      proxy.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proxy.exitCode === null) proxy.kill('SIGKILL');
    }
    await app?.close({ timeout: 1000 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the app sees the client address nginx saw, and nginx itself as the peer', async () => {
    expect(await get(proxyPort, '127.0.0.2')).toEqual({
      addr: '127.0.0.2',
      peer: '127.0.0.1',
      scheme: 'http',
      host: `127.0.0.1:${app?.port}`,
    });
  });

  test('a forged X-Forwarded-For sent through nginx does not change the address the app sees', async () => {
    const seen = await get(proxyPort, '127.0.0.3', { 'X-Forwarded-For': '127.0.0.1, 203.0.113.9' });
    expect(seen.addr).toBe('127.0.0.3');
  });

  test("nginx's X-Forwarded-Proto overrides the client's, so a forged https does not stick", async () => {
    expect((await get(proxyPort, '127.0.0.2', { 'X-Forwarded-Proto': 'https' })).scheme).toBe('http');
  });

  test('a client that bypasses nginx cannot set its address with X-Forwarded-For', async () => {
    const seen = await get(app?.port as number, '127.0.0.2', {
      'X-Forwarded-For': '198.51.100.7',
      'X-Forwarded-Proto': 'https',
    });
    expect(seen).toEqual({ addr: '127.0.0.2', peer: null, scheme: 'http', host: `127.0.0.1:${app?.port}` });
  });
});
