import { PassThrough } from 'node:stream';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { conditionalGet, lint } from '../index.js';
import type { App, Response } from '../index.js';
import { fakeEnv } from '../fake-env.fixture.js';

const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT';
const page: App = () => [
  200,
  [
    'Content-Type',
    'text/plain',
    'Content-Length',
    '5',
    'ETag',
    'W/"v1"',
    'Last-Modified',
    lastModified,
    'Cache-Control',
    'max-age=60',
  ],
  ['Hello'],
];
const wrap = (app: App): App => lint(conditionalGet()(lint(app)));

describe('ConditionalGET', () => {
  it('answers 304 without entity headers when If-None-Match matches the ETag weakly', async () => {
    await testApp(wrap(page), async (request) => {
      const res = await request('/', { headers: { 'If-None-Match': '"v0", "v1"' } });
      expect(res.status).toBe(304);
      expect(res.text).toBe('');
      expect(res.headers['content-type']).toBeUndefined();
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.headers).toMatchObject({
        etag: 'W/"v1"',
        'last-modified': lastModified,
        'cache-control': 'max-age=60',
      });
    });
  });

  it('answers 200 when no tag matches, even if the date would (If-None-Match wins)', async () => {
    await testApp(wrap(page), async (request) => {
      const res = await request('/', { headers: { 'If-None-Match': '"v2"', 'If-Modified-Since': lastModified } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('Hello');
    });
  });

  it('treats If-None-Match: * as matching any 200', async () => {
    const res = (await wrap(page)(fakeEnv({ HTTP_IF_NONE_MATCH: '*' }))) as Response;
    expect(res[0]).toBe(304);
  });

  it('answers 304 when Last-Modified is not after If-Modified-Since, 200 when it is or the date is invalid', async () => {
    const at = async (since: string): Promise<number> =>
      ((await wrap(page)(fakeEnv({ HTTP_IF_MODIFIED_SINCE: since }))) as Response)[0];
    expect(await at(lastModified)).toBe(304);
    expect(await at('Thu, 22 Oct 2015 00:00:00 GMT')).toBe(304);
    expect(await at('Tue, 20 Oct 2015 00:00:00 GMT')).toBe(200);
    expect(await at('yesterday')).toBe(200);
  });

  it('ignores other methods, other statuses and responses without validators', async () => {
    const env = { HTTP_IF_NONE_MATCH: '*', HTTP_IF_MODIFIED_SINCE: lastModified };
    expect(((await wrap(page)(fakeEnv({ ...env, REQUEST_METHOD: 'POST' }))) as Response)[0]).toBe(200);
    expect(
      ((await wrap(() => [404, [], ['x']])(fakeEnv({ HTTP_IF_MODIFIED_SINCE: lastModified }))) as Response)[0],
    ).toBe(404);
    expect(((await wrap(() => [200, [], ['x']])(fakeEnv({ HTTP_IF_NONE_MATCH: '"a"' }))) as Response)[0]).toBe(200);
  });

  it('releases a stream body it replaces with a 304', async () => {
    const stream = new PassThrough();
    await wrap(() => [200, ['ETag', '"a"'], stream])(fakeEnv({ HTTP_IF_NONE_MATCH: '"a"' }));
    expect(stream.destroyed).toBe(true);
  });

  it('turns a streaming 200 into a 304 that writes nothing', async () => {
    const app = wrap(() => async (respond) => {
      const w = respond([200, ['ETag', '"a"', 'Content-Type', 'text/plain']]);
      await w.write('body');
      await w.close();
    });
    await testApp(app, async (request) => {
      const res = await request('/', { headers: { 'If-None-Match': '"a"' } });
      expect(res.status).toBe(304);
      expect(res.text).toBe('');
    });
  });
});
