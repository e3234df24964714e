import { type App, lint } from '@plank/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apachePath, type Peer, startApache } from './peers.fixture.js';
import { type FcgiServer, serveFcgi } from './serve.js';

const report: App = async (env) => {
  let body = '';
  for await (const chunk of env['psgi.input']) body += chunk;
  return [
    200,
    ['Content-Type', 'application/json', 'X-Answer', 'yes'],
    [
      JSON.stringify({
        script: env.SCRIPT_NAME,
        path: env.PATH_INFO,
        query: env.QUERY_STRING,
        uri: env.REQUEST_URI,
        body,
      }),
    ],
  ];
};

describe.skipIf(!apachePath && !process.env.CI)('behind Apache httpd mod_proxy_fcgi', () => {
  let fcgi: FcgiServer;
  let apache: Peer;

  beforeAll(async () => {
    fcgi = await serveFcgi(lint(report), { host: '127.0.0.1', port: 0 });
    apache = await startApache(
      [`ProxyPass "/app/" "fcgi://127.0.0.1:${fcgi.port}/"`, `ProxyPass "/" "fcgi://127.0.0.1:${fcgi.port}/"`].join(
        '\n',
      ),
    );
  });

  afterAll(async () => {
    await apache?.stop();
    await fcgi?.close({ timeout: 100 });
  });

  it('mounts the app under the ProxyPass prefix, from what Apache puts in SCRIPT_FILENAME', async () => {
    const res = await fetch(`http://127.0.0.1:${apache.port}/app/x/y%20z?q=1`);
    expect(res.headers.get('x-answer')).toBe('yes');
    expect(await res.json()).toEqual({
      script: '/app',
      path: '/x/y z',
      query: 'q=1',
      uri: '/app/x/y%20z?q=1',
      body: '',
    });
  });

  it('serves the root mount with an empty SCRIPT_NAME, and passes request bodies', async () => {
    const res = await fetch(`http://127.0.0.1:${apache.port}/r/s?q=2`, { method: 'POST', body: 'payload' });
    expect(await res.json()).toEqual({ script: '', path: '/r/s', query: 'q=2', uri: '/r/s?q=2', body: 'payload' });
  });
});
