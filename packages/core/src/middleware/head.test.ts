import { PassThrough } from 'node:stream';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { head, lint } from '../index.js';
import type { App, Response, StreamingResponse } from '../index.js';
import { fakeEnv } from '../fake-env.fixture.js';

const wrap = (app: App): App => lint(head()(lint(app)));
const hello: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], ['Hello']];

describe('Head', () => {
  it('gives HEAD the headers, Content-Length included, and an empty body', async () => {
    const res = (await wrap(hello)(fakeEnv({ REQUEST_METHOD: 'HEAD' }))) as Response;
    expect(res).toEqual([200, ['Content-Type', 'text/plain', 'Content-Length', '5'], []]);
  });

  it('gives HEAD the Content-Length GET gets when the app sets none, for arrays and files', async () => {
    const bare: App = () => [200, ['Content-Type', 'text/plain'], ['Hel', 'lo']];
    const file: App = () => [
      200,
      ['Content-Type', 'text/plain'],
      { path: new URL(import.meta.url).pathname, start: 2, end: 11 },
    ];
    await testApp(
      wrap((env) => (env.PATH_INFO === '/file' ? file(env) : bare(env))),
      async (request) => {
        expect((await request('/')).headers['content-length']).toBe('5');
        const res = await request('/', { method: 'HEAD' });
        expect([res.status, res.headers['content-length'], res.text]).toEqual([200, '5', '']);
        expect((await request('/file', { method: 'HEAD' })).headers['content-length']).toBe('10');
      },
    );
  });

  it('gives HEAD the Content-Length of a streaming response, over a socket and in-process', async () => {
    const app = wrap(() => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain', 'Content-Length', '5']]);
      await w.write('Hello');
      await w.close();
    });
    for (const mode of ['server', 'inprocess'] as const) {
      await testApp(
        app,
        async (request) => {
          const res = await request('/', { method: 'HEAD' });
          expect([mode, res.status, res.headers['content-length'], res.text]).toEqual([mode, 200, '5', '']);
        },
        { mode },
      );
    }
  });

  it('leaves GET alone', async () => {
    await testApp(wrap(hello), async (request) => {
      expect((await request('/')).text).toBe('Hello');
    });
  });

  it('destroys a stream body it drops', async () => {
    const stream = new PassThrough();
    await wrap(() => [200, [], stream])(fakeEnv({ REQUEST_METHOD: 'HEAD' }));
    expect(stream.destroyed).toBe(true);
  });

  it('drops what a streaming response writes', async () => {
    const app = wrap(() => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']]);
      await w.write('never');
      await w.close();
    });
    const res = (await app(fakeEnv({ REQUEST_METHOD: 'HEAD' }))) as StreamingResponse;
    const written: unknown[] = [];
    await res(() => ({ aborted: false, write: async (c) => void written.push(c), close: async () => {} }));
    expect(written).toEqual([]);
  });
});
