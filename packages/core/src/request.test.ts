import { PassThrough, Readable } from 'node:stream';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { httpExceptions, lint, PlankError, Request } from './index.js';
import type { App, Env } from './index.js';
import { fakeEnv } from './fake-env.fixture.js';

const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('Request', () => {
  it('exposes method, paths, scheme, addresses and headers from the env', () => {
    const req = new Request(
      fakeEnv({
        REQUEST_METHOD: 'POST',
        SCRIPT_NAME: '/app',
        PATH_INFO: latin1('/café'),
        REQUEST_URI: '/app/caf%C3%A9?x=1',
        QUERY_STRING: 'x=1',
        REMOTE_PORT: '4000',
        CONTENT_TYPE: 'Application/JSON; charset=utf-8',
        CONTENT_LENGTH: '12',
        HTTP_USER_AGENT: 'curl/8',
        HTTP_REFERER: 'http://example.com/',
        HTTP_X_FORWARDED_FOR: '1.2.3.4, 5.6.7.8',
        'psgi.url_scheme': 'https',
      }),
    );
    expect(req).toMatchObject({
      method: 'POST',
      path: '/café',
      pathInfo: latin1('/café'),
      scriptName: '/app',
      requestUri: '/app/caf%C3%A9?x=1',
      queryString: 'x=1',
    });
    expect(req).toMatchObject({
      secure: true,
      scheme: 'https',
      remoteAddr: '127.0.0.1',
      remotePort: 4000,
      contentLength: 12,
      mediaType: 'application/json',
    });
    expect(req).toMatchObject({ userAgent: 'curl/8', referer: 'http://example.com/', protocol: 'HTTP/1.1' });
    expect(req.contentType).toBe('Application/JSON; charset=utf-8');
    expect(req.header('x-forwarded-for')).toBe('1.2.3.4, 5.6.7.8');
    expect(req.header('Content-Type')).toBe('Application/JSON; charset=utf-8');
    expect(req.header('X-Missing')).toBeUndefined();
  });

  it('gives "/" for an empty PATH_INFO and keeps invalid UTF-8 visible as U+FFFD', () => {
    expect(new Request(fakeEnv({ PATH_INFO: '' })).path).toBe('/');
    expect(new Request(fakeEnv({ PATH_INFO: '/\xff' })).path).toBe('/\ufffd');
  });

  it('parses the query lazily, decoded, with repeated keys', () => {
    const env = fakeEnv({ QUERY_STRING: 'tag=a&tag=b&name=J%C3%BCrgen+X&empty' });
    const req = new Request(env);
    expect(req.query.getAll('tag')).toEqual(['a', 'b']);
    expect(req.query.get('name')).toBe('Jürgen X');
    expect(req.query.get('empty')).toBe('');
    expect(req.query).toBe(req.query);
  });

  it('parses cookies per RFC 6265: first name wins, quotes removed, values decoded', () => {
    const req = new Request(
      fakeEnv({ HTTP_COOKIE: `a=1; b="two words"; a=2; c=caf%C3%A9; d=${latin1('é')}; bad; e=x=y, f=joined` }),
    );
    expect({ ...req.cookies }).toEqual({ a: '1', b: 'two words', c: 'café', d: 'é', e: 'x=y', f: 'joined' });
    expect(new Request(fakeEnv()).cookies).toEqual({});
  });

  it('rebuilds uri() and base() like Plack, from Host or the server name', () => {
    const env = fakeEnv({
      HTTP_HOST: 'example.com:8080',
      SCRIPT_NAME: '/app',
      PATH_INFO: latin1('/a b/é'),
      QUERY_STRING: 'q=1%202',
    });
    const req = new Request(env);
    expect(req.uri().href).toBe('http://example.com:8080/app/a%20b/%C3%A9?q=1%202');
    expect(req.base().href).toBe('http://example.com:8080/app');
    expect(new Request(fakeEnv({ SERVER_NAME: 'srv', SERVER_PORT: '80', PATH_INFO: '' })).uri().href).toBe(
      'http://srv/',
    );
    expect(new Request(fakeEnv({ HTTP_HOST: 'bad host', SERVER_NAME: 'srv', SERVER_PORT: '81' })).base().href).toBe(
      'http://srv:81/',
    );
  });

  it('reads the body once, shared by every Request on the same env', async () => {
    await testApp(
      lint(async (env: Env) => {
        const first = await new Request(env).text();
        const again = await new Request(env).json();
        return [200, ['Content-Type', 'text/plain'], [`${first}|${JSON.stringify(again)}`]];
      }),
      async (request) => {
        const res = await request('/', {
          method: 'POST',
          body: '{"ü":1}',
          headers: { 'Content-Type': 'application/json' },
        });
        expect(res.text).toBe('{"ü":1}|{"ü":1}');
      },
    );
  });

  it('parses a urlencoded form and ignores other content types', async () => {
    const form = new Request(
      fakeEnv({
        CONTENT_TYPE: 'application/x-www-form-urlencoded',
        'psgi.input': Readable.from([Buffer.from('a=1&a=2&b=%E2%82%AC')]),
      }),
    );
    const params = await form.form();
    expect(params.getAll('a')).toEqual(['1', '2']);
    expect(params.get('b')).toBe('€');
    const input = new PassThrough();
    expect([...(await new Request(fakeEnv({ CONTENT_TYPE: 'text/plain', 'psgi.input': input })).form())]).toEqual([]);
    expect(input.readableFlowing).toBe(null);
  });

  it('refuses a body over the limit with a 413-style error, by Content-Length or by bytes read', async () => {
    const declared = new Request(fakeEnv({ CONTENT_LENGTH: '11' }), { maxBodySize: 10 });
    await expect(declared.bytes()).rejects.toMatchObject({ code: 'PLANK_ERR_BODY_TOO_LARGE', status: 413 });
    const streamed = new Request(fakeEnv({ 'psgi.input': Readable.from([Buffer.alloc(6), Buffer.alloc(6)]) }), {
      maxBodySize: 10,
    });
    await expect(streamed.text()).rejects.toThrow(/exceeds the limit of 10 bytes/);
  });

  it('answers 413 and 400 through HTTPExceptions', async () => {
    const app: App = lint(
      httpExceptions()(
        lint(async (env) => [200, [], [JSON.stringify(await new Request(env, { maxBodySize: 4 }).json())]]),
      ),
    );
    await testApp(app, async (request) => {
      expect((await request('/', { method: 'POST', body: 'too long' })).status).toBe(413);
      const bad = await request('/', { method: 'POST', body: '{x' });
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/not valid JSON/);
    });
  });

  it('rejects a bad maxBodySize when created', () => {
    try {
      new Request(fakeEnv(), { maxBodySize: -1 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PlankError);
      expect((err as PlankError).code).toBe('PLANK_ERR_CORE_OPTION');
      expect((err as PlankError).message).toBe(
        'new Request(env, options): option "maxBodySize" must be an integer >= 0, got -1',
      );
    }
  });

  it('rejects an unknown option when created, naming the known one', () => {
    expect(() => new Request(fakeEnv(), { maxBodysize: 4 } as never)).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_CORE_OPTION',
        message:
          'new Request(env, options): unknown option "maxBodysize" (did you mean "maxBodySize"?; known options: maxBodySize)',
      }),
    );
  });
});
