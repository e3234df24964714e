import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { builder, lint, type App, type Env, type PlankError } from '@plank/core';
import { serveStatic } from '@plank/middleware-static';
import { testApp } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xsendfile, type XSendfileOptions } from './index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'plank-xsendfile-'));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files/hello.txt'), 'hello from disk\n');
  writeFileSync(join(dir, 'files/a b?.txt'), 'odd name\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stack = (options: XSendfileOptions): App =>
  lint(
    builder(({ enable }) => {
      enable(xsendfile(options));
      enable(serveStatic({ path: /^\/files\//, root: dir }));
      return () => [200, ['Content-Type', 'text/plain'], ['from the app']];
    }),
  );

describe('XSendfile', () => {
  it("Plack's xsendfile.t: X-Sendfile carries the absolute path, the type stays, the body is empty", async () => {
    // Plack reads the type from the request; here the proxy that sends it must be trusted.
    await testApp(stack({ trusted: true }), async (request) => {
      const res = await request('/files/hello.txt', { headers: { 'X-Sendfile-Type': 'X-Sendfile' } });
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.headers['x-sendfile']).toBe(join(dir, 'files/hello.txt'));
      expect(res.headers['content-length']).toBe('0');
      expect(res.text).toBe('');
    });
  });

  it('maps the path to an internal location for X-Accel-Redirect, percent-encoding the name', async () => {
    await testApp(
      stack({ type: 'X-Accel-Redirect', mapping: { [`${dir}/files/`]: '/protected/' } }),
      async (request) => {
        expect((await request('/files/hello.txt')).headers['x-accel-redirect']).toBe('/protected/hello.txt');
        expect((await request('/files/a%20b%3F.txt')).headers['x-accel-redirect']).toBe('/protected/a%20b%3F.txt');
      },
    );
  });

  it('serves the file itself when no mapping covers it, and leaves non-file bodies, ranges and errors alone', async () => {
    await testApp(stack({ type: 'X-Accel-Redirect', mapping: { '/elsewhere/': '/protected/' } }), async (request) => {
      const res = await request('/files/hello.txt');
      expect(res.headers['x-accel-redirect']).toBeUndefined();
      expect(res.text).toBe('hello from disk\n');
    });
    await testApp(stack({ type: 'X-Sendfile' }), async (request) => {
      expect((await request('/other')).text).toBe('from the app');
      const range = await request('/files/hello.txt', { headers: { Range: 'bytes=0-4' } });
      expect(range.status).toBe(206);
      expect(range.text).toBe('hello');
      expect(range.headers['x-sendfile']).toBeUndefined();
      expect((await request('/files/missing.txt')).status).toBe(404);
    });
  });

  it('ignores X-Sendfile-Type and X-Accel-Mapping from a peer it does not trust', async () => {
    const trusted = (env: Env) => env.REMOTE_ADDR === '127.0.0.1';
    await testApp(stack({ trusted }), async (request) => {
      const headers = { 'X-Sendfile-Type': 'X-Accel-Redirect', 'X-Accel-Mapping': '/=/anything/' };
      const outside = await request('/files/hello.txt', { headers, remoteAddr: '203.0.113.9' });
      expect(outside.headers['x-accel-redirect']).toBeUndefined();
      expect(outside.text).toBe('hello from disk\n');
      const proxy = await request('/files/hello.txt', { headers, remoteAddr: '127.0.0.1' });
      expect(proxy.headers['x-accel-redirect']).toBe(`/anything${join(dir, 'files/hello.txt')}`);
    });
  });

  it('hands over an fs read stream of a whole file, closing the stream, and a relative FileBody path made absolute', async () => {
    let stream: ReturnType<typeof createReadStream> | undefined;
    const app: App = (env) => {
      if (env.PATH_INFO === '/relative')
        return [200, ['Content-Type', 'text/plain'], { path: relative(process.cwd(), join(dir, 'files/hello.txt')) }];
      stream = createReadStream(join(dir, 'files/hello.txt'));
      return [200, ['Content-Type', 'text/plain'], stream];
    };
    await testApp(lint(xsendfile({ type: 'X-Lighttpd-Send-File' })(lint(app))), async (request) => {
      expect((await request('/stream')).headers['x-lighttpd-send-file']).toBe(join(dir, 'files/hello.txt'));
      expect(stream?.destroyed).toBe(true);
      // Destroyed before its open finished, the stream still opens and then closes the file.
      if (!stream?.closed) await new Promise<void>((resolve) => stream?.once('close', () => resolve()));
      expect((await request('/relative')).headers['x-lighttpd-send-file']).toBe(join(dir, 'files/hello.txt'));
    });
  });

  it('rejects bad options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /give option "type", or "trusted"/],
      [
        { type: 'X-Send-File' },
        /option "type" must be one of "X-Sendfile", "X-Lighttpd-Send-File", "X-Accel-Redirect", got "X-Send-File"/,
      ],
      [
        { type: 'X-Accel-Redirect', mapping: { 'files/': '/p/' } },
        /option "mapping" must be an object of absolute path prefixes/,
      ],
      [{ type: 'X-Sendfile', trusted: 'yes' }, /option "trusted"/],
      [{ typ: 'X-Sendfile' }, /unknown option "typ" \(did you mean "type"\?/],
    ];
    for (const [options, message] of bad) {
      try {
        xsendfile(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_XSENDFILE_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its Plack name in enable()', async () => {
    const app = builder(
      ({ enable }) => {
        enable('XSendfile', { type: 'X-Sendfile' });
        return () => [200, ['Content-Type', 'text/plain'], { path: join(dir, 'files/hello.txt') }];
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    await testApp(lint(app), async (request) => {
      expect((await request('/')).headers['x-sendfile']).toBe(join(dir, 'files/hello.txt'));
    });
  });
});
