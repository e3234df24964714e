// The cases of Plack::Middleware::Deflater's own test files (t/deflater.t, content_type.t,
// vary.t, no-clobber.t, delayed.t, streaming.t, xno-compress.t, xskip-deflater.t),
// re-expressed over a real socket as Plack runs them (Plack::Test's Server backend).
// Plack has no size threshold and, without content_type, compresses every type; the
// cases below pass `threshold: 0` and a match-all type where Plack's defaults matter.
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { builder, lint, type App, type Middleware } from '@plank/core';
import { testApp, type TestResponse } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { deflater, type DeflaterOptions } from './index.js';

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['Hello World']];
const ALL = /(?:)/;
const IE6 = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 6.0; Trident/4.0)';
const IE7 = 'Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/5.0)';

// vary.t's front middleware: old Netscape-era agents (but not MSIE 7/8) lose gzip and deflate.
const oldBrowsers: Middleware = (app) => (env) => {
  const ua = env.HTTP_USER_AGENT ?? '';
  if (/^Mozilla\/4/.test(ua) && !/\bMSIE\s(7|8)/.test(ua) && env.HTTP_ACCEPT_ENCODING)
    return app({ ...env, HTTP_ACCEPT_ENCODING: env.HTTP_ACCEPT_ENCODING.replace(/gzip|deflate/gi, '') });
  return app(env);
};

function stack(app: App, options: DeflaterOptions, ...front: Middleware[]): App {
  return lint(
    builder(({ enable }) => {
      for (const mw of front) enable(mw);
      enable(deflater({ threshold: 0, ...options }));
      return lint(app);
    }),
  );
}

function decoded(res: TestResponse): string {
  const coding = res.headers['content-encoding'];
  if (coding === 'gzip') return zlib.gunzipSync(res.body).toString();
  if (coding === 'deflate') return zlib.inflateSync(res.body).toString();
  return res.text;
}

const server = { mode: 'server' } as const;

describe('Plack::Middleware::Deflater t/ cases', () => {
  it('deflater.t: arrays with empty chunks and streams of chunks all decode to the same text, gzip or deflate', async () => {
    const bodies: Array<() => App> = [
      () => () => [200, [], ['Hello World']],
      () => () => [200, [], ['Hello ', 'World']],
      () => () => [200, [], ['Hello ', '', 'World']],
      () => () => [200, [], Readable.from(['Hello World'])],
      () => () => [200, [], Readable.from(['Hello', ' World'])],
      () => () => [200, [], Readable.from(['Hello', '', ' World'])],
    ];
    for (const coding of ['gzip', 'deflate']) {
      for (const [i, make] of bodies.entries()) {
        await testApp(
          stack(make(), { contentType: ALL }),
          async (request) => {
            const res = await request('/', { headers: { 'Accept-Encoding': coding } });
            expect(decoded(res), `${coding} #${i}`).toBe('Hello World');
            expect(res.headers['content-encoding']).toBe(coding);
            expect(res.headers.vary).toMatch(/Accept-Encoding/);
          },
          server,
        );
      }
    }
  });

  it('content_type.t: text/* matches text/plain and text/html with a charset, not image/jpeg; a list matches any of its types', async () => {
    const typed =
      (type: string): App =>
      () => [200, ['Content-Type', type], ['Hello World']];
    for (const [type, contentType, compressed] of [
      ['text/plain', 'text/*', true],
      ['text/html; charset=UTF-8', 'text/*', true],
      ['image/jpeg', 'text/*', false],
      ['application/javascript', ['text/*', 'application/javascript'], true],
    ] as const) {
      await testApp(
        stack(typed(type), { contentType: contentType as DeflaterOptions['contentType'] }),
        async (request) => {
          const res = await request('/', { headers: { 'Accept-Encoding': 'gzip, deflate' } });
          expect(decoded(res)).toBe('Hello World');
          expect(res.headers['content-encoding'] === 'gzip', type).toBe(compressed);
        },
        server,
      );
    }
  });

  it('vary.t: no Vary on a type that is never compressed; Vary Accept-Encoding and User-Agent whenever it could be', async () => {
    await testApp(
      stack(hello, { contentType: 'text/html', varyUserAgent: true }),
      async (request) => {
        const res = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(res.headers.vary).toBeUndefined();
      },
      server,
    );
    const app = stack(hello, { contentType: 'text/plain', varyUserAgent: true }, oldBrowsers);
    await testApp(
      app,
      async (request) => {
        for (const [ua, compressed] of [
          [undefined, true],
          [IE6, false],
          [IE7, true],
        ] as const) {
          const headers: Record<string, string> = { 'Accept-Encoding': 'gzip, deflate' };
          if (ua) headers['User-Agent'] = ua;
          const res = await request('/', { headers });
          expect(decoded(res)).toBe('Hello World');
          expect(res.headers['content-encoding'] === 'gzip', ua ?? 'no agent').toBe(compressed);
          expect(res.headers.vary).toBe('Accept-Encoding, User-Agent');
        }
      },
      server,
    );
  });

  it('no-clobber.t: an existing Content-Encoding is kept, identity is not an encoding', async () => {
    for (const [encoding, want] of [
      ['foo', 'foo'],
      ['identity', 'gzip'],
    ]) {
      const app: App = () => [
        200,
        ['Content-Type', 'text/plain', 'Content-Encoding', encoding as string],
        ['Hello World'],
      ];
      await testApp(
        stack(app, {}),
        async (request) => {
          const res = await request('/', { headers: ['Accept-Encoding', 'gzip', 'Accept-Encoding', 'foo'] });
          expect(res.headers['content-encoding']).toBe(want);
          expect(res.headers.vary).toMatch(/Accept-Encoding/);
          if (want === 'foo') expect(res.text).toBe('Hello World');
          else expect(decoded(res)).toBe('Hello World');
        },
        server,
      );
    }
  });

  it('delayed.t: a delayed response (respond with a full response) is compressed, in-process and over a socket', async () => {
    const delayed: App = () => (respond) => void respond([200, ['Content-Type', 'text/plain'], ['Hello World']]);
    for (const mode of ['inprocess', 'server'] as const) {
      await testApp(
        stack(delayed, { contentType: 'text/plain', varyUserAgent: true }, oldBrowsers),
        async (request) => {
          const res = await request('/', { headers: { 'Accept-Encoding': 'gzip, deflate', 'User-Agent': IE7 } });
          expect(decoded(res)).toBe('Hello World');
          expect(res.headers['content-encoding']).toBe('gzip');
          expect(res.headers.vary).toBe('Accept-Encoding, User-Agent');
        },
        { mode },
      );
    }
  });

  it('streaming.t: two writes of a streaming response arrive gzipped and whole', async () => {
    const line = (word: string): string => `${word}${'x'.repeat(1024)}\n`;
    const streaming: App = () => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain']]);
      await writer.write(line('Hello'));
      await new Promise((resolve) => setImmediate(resolve));
      await writer.write(line('World'));
      await writer.close();
    };
    await testApp(
      stack(streaming, { contentType: 'text/plain', varyUserAgent: true }, oldBrowsers),
      async (request) => {
        const res = await request('/', { headers: { 'Accept-Encoding': 'gzip, deflate', 'User-Agent': IE7 } });
        expect(res.headers['content-encoding']).toBe('gzip');
        expect(res.headers.vary).toBe('Accept-Encoding, User-Agent');
        expect(decoded(res)).toBe(line('Hello') + line('World'));
      },
      server,
    );
  });

  it('xno-compress.t: psgix.no-compress and psgix.compress-only-text/html stop compression but keep Vary', async () => {
    const cases: Array<[string, string]> = [
      ['psgix.no-compress', 'text/html'],
      ['psgix.compress-only-text/html', 'text/plain'],
    ];
    for (const [key, type] of cases) {
      const app: App = () => [200, ['Content-Type', type], ['Hello World']];
      const flag: Middleware = (inner) => (env) => inner({ ...env, [key]: true });
      await testApp(
        stack(app, { contentType: type, varyUserAgent: true }, flag),
        async (request) => {
          const res = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
          expect(res.text, key).toBe('Hello World');
          expect(res.headers['content-encoding']).toBeUndefined();
          expect(res.headers.vary).toBe('Accept-Encoding, User-Agent');
        },
        server,
      );
    }
  });

  it('xskip-deflater.t: plank.skip-deflater (Plack: plack.skip-deflater) leaves the response untouched, without Vary', async () => {
    const skip: Middleware = (inner) => (env) => inner({ ...env, 'plank.skip-deflater': true });
    await testApp(
      stack(hello, { contentType: 'text/plain', varyUserAgent: true }, skip),
      async (request) => {
        const res = await request('/', { headers: { 'Accept-Encoding': 'gzip' } });
        expect(res.text).toBe('Hello World');
        expect(res.headers['content-encoding']).toBeUndefined();
        expect(res.headers.vary).toBeUndefined();
      },
      server,
    );
  });
});
