import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { HttpException, httpExceptions, lint, stackTrace } from '../index.js';
import type { App, Response } from '../index.js';
import { fakeEnv } from '../fake-env.fixture.js';

const wrap = (app: App): App => lint(httpExceptions()(lint(app)));

describe('HTTPExceptions', () => {
  it('turns a thrown HttpException into its response, with its headers', async () => {
    const app = wrap(() => {
      throw new HttpException(401, 'Who are you?', { headers: ['WWW-Authenticate', 'Basic realm="x"'] });
    });
    await testApp(app, async (request) => {
      const res = await request('/');
      expect(res.status).toBe(401);
      expect(res.text).toBe('Who are you?');
      expect(res.headers['www-authenticate']).toBe('Basic realm="x"');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    });
  });

  it('uses the reason phrase by default, and handles rejections and failing streaming responses', async () => {
    const rejected = (await wrap(async () => Promise.reject(new HttpException(404)))(fakeEnv())) as Response;
    expect(rejected[0]).toBe(404);
    expect(Buffer.concat(rejected[2] as Buffer[]).toString()).toBe('Not Found');
    await testApp(
      wrap(() => async () => {
        throw new HttpException(503);
      }),
      async (request) => {
        expect((await request('/')).status).toBe(503);
      },
    );
  });

  it('answers any object with a 4xx/5xx status, statusCode or code, hiding 5xx messages', async () => {
    const run = async (err: unknown): Promise<[number, string]> => {
      const res = (await wrap(() => {
        throw err;
      })(fakeEnv())) as Response;
      return [res[0], Buffer.concat(res[2] as Buffer[]).toString()];
    };
    expect(await run(Object.assign(new Error('bad input'), { status: 422 }))).toEqual([422, 'bad input']);
    expect(await run({ statusCode: 409 })).toEqual([409, 'Conflict']);
    expect(await run({ code: 429, message: 'slow down' })).toEqual([429, 'slow down']);
    expect(await run(Object.assign(new Error('db password is hunter2'), { status: 502 }))).toEqual([
      502,
      'Bad Gateway',
    ]);
    expect(await run(Object.assign(new Error('shown'), { status: 500, expose: true }))).toEqual([500, 'shown']);
  });

  it('redirects for a 3xx exception with a location', async () => {
    const res = (await wrap(() => {
      throw new HttpException(303, undefined, { location: '/elsewhere' });
    })(fakeEnv())) as Response;
    expect(res[0]).toBe(303);
    expect(res[1].slice(0, 2)).toEqual(['Location', '/elsewhere']);
  });

  it('rethrows everything else untouched, so StackTrace outside it sees the original', async () => {
    const plain = new Error('not http');
    expect(() =>
      httpExceptions()(() => {
        throw plain;
      })(fakeEnv()),
    ).toThrow(plain);
    const enoent = Object.assign(new Error('missing'), { code: 'ENOENT' });
    expect(() =>
      httpExceptions()(() => {
        throw enoent;
      })(fakeEnv()),
    ).toThrow(enoent);
    const app = stackTrace({ noPrintErrors: true })(
      httpExceptions({ rethrow: true })(() => {
        throw new HttpException(500, 'oops');
      }),
    );
    const res = (await app(fakeEnv())) as Response;
    expect(Buffer.concat(res[2] as Buffer[]).toString()).toMatch(/^HttpException: oops\n/);
  });

  it('refuses an HttpException that is not an HTTP error', () => {
    expect(() => new HttpException(200)).toThrow(/must be an integer from 300 to 599/);
    expect(() => new HttpException(302)).toThrow(/a redirect needs options.location/);
    expect(() => new HttpException(99)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_HTTP_EXCEPTION' }));
  });
});
