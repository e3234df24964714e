import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FcgiClient } from './client.fixture.js';

describe('the README', () => {
  it('has a Synopsis that serves over FastCGI as written', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = /## Synopsis\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1] as string;
    expect(code).toContain("serveFcgi(app, { host: '127.0.0.1', port: 9000 })");
    // The same code on a free port, run here: the server it starts answers a request.
    const { serveFcgi } = await import('./index.js');
    const body = code
      .replace(/^import .*$/m, '')
      .replace('port: 9000', 'port: 0')
      .replace(/^console\.log.*$/m, '')
      .replace(/^process\.once.*$/m, 'return server;');
    const server = await new Function('serveFcgi', `return (async () => {${body}})();`)(serveFcgi);
    try {
      const client = await FcgiClient.open({ port: server.port });
      const reply = await client.request({
        REQUEST_METHOD: 'GET',
        REQUEST_URI: '/there',
        SCRIPT_NAME: '',
        PATH_INFO: '/there',
      });
      expect(reply.body.toString()).toBe('Hello from /there\n');
    } finally {
      await server.close({ timeout: 100 });
    }
  });
});
