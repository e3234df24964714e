import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, lint } from '@plank/core';
import { runServerSuite } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxPath, type Peer, plackParams, startNginx } from './peers.fixture.js';
import { type FcgiServer, serveFcgi } from './serve.js';

const report: App = (env) => [
  200,
  ['Content-Type', 'application/json'],
  [
    JSON.stringify({
      SCRIPT_NAME: env.SCRIPT_NAME,
      PATH_INFO: env.PATH_INFO,
      QUERY_STRING: env.QUERY_STRING,
      REQUEST_URI: env.REQUEST_URI,
      REMOTE_ADDR: env.REMOTE_ADDR,
      SERVER_PORT: env.SERVER_PORT,
      scheme: env['psgi.url_scheme'],
      ua: env.HTTP_USER_AGENT ?? null,
    }),
  ],
];

// The server conformance suite, every case through nginx → Plank over FastCGI.
describe.skipIf(!nginxPath && !process.env.CI)('the conformance suite through nginx over FastCGI', () => {
  const factory = async (app: App) => {
    const fcgi = await serveFcgi(app, { host: '127.0.0.1', port: 0 });
    const nginx = await startNginx(
      `
    large_client_header_buffers 4 32k;
    location / {
      fastcgi_pass 127.0.0.1:${fcgi.port};
      fastcgi_keep_conn on;
      fastcgi_buffering off;
      ${plackParams()}
      # SERVER_NAME and SERVER_PORT from Host, as server-node sets them.
      fastcgi_param  SERVER_NAME $host;
      fastcgi_param  SERVER_PORT $host_port;
    }`,
      'map $http_host $host_port { ~:(?<p>[0-9]+)$ $p; default $server_port; }',
    );
    return {
      port: nginx.port,
      close: async () => {
        await nginx.stop();
        await fcgi.close({ timeout: 100 });
      },
    };
  };
  factory.exclude = {
    'invalid percent-escapes stay as they are and %2F decodes to a slash': 'nginx answers 400 to %zz itself',
    'an absolute-form target is split into path and query, its host wins':
      'nginx turns the target into origin-form and gives no variable with its port',
  };
  runServerSuite('server-fcgi behind nginx', factory);
});

describe.skipIf(!nginxPath && !process.env.CI)('behind nginx fastcgi_pass', () => {
  let dir = '';
  let tcp: FcgiServer;
  let unix: FcgiServer;
  let nginx: Peer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-'));
    tcp = await serveFcgi(lint(report), { host: '127.0.0.1', port: 0 });
    unix = await serveFcgi(lint(report), { socket: join(dir, 'app.sock'), socketMode: 0o600 });
    nginx = await startNginx(`
    location /tcp/ {
      fastcgi_pass 127.0.0.1:${tcp.port};
      ${plackParams('/tcp')}
    }
    location /unix/ {
      fastcgi_pass unix:${join(dir, 'app.sock')};
      fastcgi_keep_conn on;
      ${plackParams('/unix')}
    }
    location / {
      # Debian's stock parameters: SCRIPT_NAME is the whole path and no PATH_INFO is sent.
      fastcgi_pass 127.0.0.1:${tcp.port};
      include /etc/nginx/fastcgi_params;
    }`);
  });

  afterAll(async () => {
    await nginx?.stop();
    await tcp?.close({ timeout: 100 });
    await unix?.close({ timeout: 100 });
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path: string) =>
    (await fetch(`http://127.0.0.1:${nginx.port}${path}`, { headers: { 'User-Agent': 'ua/1' } })).json();

  it('mounts the app under the SCRIPT_NAME nginx sends, over TCP and a unix socket', async () => {
    expect(await get('/tcp/a%20b?x=1')).toEqual({
      SCRIPT_NAME: '/tcp',
      PATH_INFO: '/a b',
      QUERY_STRING: 'x=1',
      REQUEST_URI: '/tcp/a%20b?x=1',
      REMOTE_ADDR: '127.0.0.1',
      SERVER_PORT: String(nginx.port),
      scheme: 'http',
      ua: 'ua/1',
    });
    expect(await get('/unix/b')).toMatchObject({ SCRIPT_NAME: '/unix', PATH_INFO: '/b' });
  });

  it("takes nginx's stock fastcgi_params as an app at the root", async () => {
    expect(await get('/users/42?page=2')).toMatchObject({
      SCRIPT_NAME: '',
      PATH_INFO: '/users/42',
      QUERY_STRING: 'page=2',
    });
  });

  it('keeps repeated slashes nginx merges in $uri, from REQUEST_URI', async () => {
    expect(await get('/tcp/a//b')).toMatchObject({ SCRIPT_NAME: '/tcp', PATH_INFO: '/a//b' });
  });
});
