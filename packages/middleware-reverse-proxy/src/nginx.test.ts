import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lint, type App } from '@plank/core';
import type { ServerHandle } from '@plank/server-node';
import { listen, type Peer, startNginx, which } from '@plank/test';
import { reverseProxy } from '@plank/middleware-reverse-proxy';

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
  let app: ServerHandle | undefined;
  let proxy: Peer | undefined;
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
    proxy = await startNginx(`
    location / {
      proxy_pass http://127.0.0.1:${app.port};
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
`);
    proxyPort = proxy.port;
  });

  afterAll(async () => {
    await proxy?.stop();
    await app?.close({ timeout: 1000 });
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
