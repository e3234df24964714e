import { describe, expect, it } from 'vitest';
import { fakeEnv } from './fake-env.fixture.js';
import { urlMap } from './index.js';
import type { App, Env, Response } from './types.js';

// Each app reports where it was mounted and what it saw, as Plack's urlmap.t does.
const reporter =
  (name: string): App =>
  (env: Env) => [200, ['Content-Type', 'text/plain'], [`${name}|${env.SCRIPT_NAME}|${env.PATH_INFO}`]];

const call = (app: App, path: string, extra: Partial<Env> = {}): string => {
  const res = app(fakeEnv({ PATH_INFO: path, REQUEST_URI: path, ...extra })) as Response;
  return res[0] === 200 ? ((res[2] as string[])[0] as string) : String(res[0]);
};

describe('urlMap', () => {
  const app = urlMap({
    '/': reporter('root'),
    '/foo': reporter('foo'),
    '/foobar': reporter('foobar'),
    '/bar/': reporter('bar'),
    'http://bar.example.com/': reporter('barhost'),
    'http://bar.example.com/foo': reporter('barhost-foo'),
  });

  it('routes to the longest matching path prefix and moves it to SCRIPT_NAME', () => {
    expect(call(app, '/')).toBe('root||/');
    expect(call(app, '/foo')).toBe('foo|/foo|');
    expect(call(app, '/foo/')).toBe('foo|/foo|/');
    expect(call(app, '/foo/bar')).toBe('foo|/foo|/bar');
    expect(call(app, '/foobar')).toBe('foobar|/foobar|');
    expect(call(app, '/foobar/baz')).toBe('foobar|/foobar|/baz');
  });

  it('matches only on a slash boundary, so /foox goes to /', () => {
    expect(call(app, '/foox')).toBe('root||/foox');
    expect(call(app, '/barx')).toBe('root||/barx');
  });

  it('mounts a location written with a trailing slash as a directory: the same prefix, its root redirected', () => {
    expect(call(app, '/bar/')).toBe('bar|/bar|/');
    expect(call(app, '/bar/x')).toBe('bar|/bar|/x');
    expect(call(app, '/bar')).toBe('301');
  });

  it('compares paths case-sensitively', () => {
    expect(call(app, '/FOO')).toBe('root||/FOO');
  });

  it('prefers a host mount for its host, ignoring the default port and case', () => {
    expect(call(app, '/', { HTTP_HOST: 'bar.example.com' })).toBe('barhost||/');
    expect(call(app, '/foo/x', { HTTP_HOST: 'BAR.example.com:80' })).toBe('barhost-foo|/foo|/x');
    expect(call(app, '/foo/x', { HTTP_HOST: 'bar.example.com:8080' })).toBe('foo|/foo|/x');
    expect(call(app, '/', { HTTP_HOST: 'other.example.com' })).toBe('root||/');
    expect(call(app, '/', { HTTP_HOST: undefined, SERVER_NAME: 'bar.example.com' })).toBe('barhost||/');
  });

  it('appends to an existing SCRIPT_NAME and restores both keys once the response arrives', () => {
    const env = fakeEnv({ SCRIPT_NAME: '/app', PATH_INFO: '/foo/x' });
    const res = app(env) as Response;
    expect((res[2] as string[])[0]).toBe('foo|/app/foo|/x');
    expect(env.SCRIPT_NAME).toBe('/app');
    expect(env.PATH_INFO).toBe('/foo/x');
  });

  it('redirects a directory mount root to its trailing slash, keeping the query', () => {
    const res = app(fakeEnv({ PATH_INFO: '/bar', QUERY_STRING: 'a=1&b=%20' })) as Response;
    expect(res).toEqual([
      301,
      ['Location', '/bar/?a=1&b=%20', 'Content-Type', 'text/plain', 'Content-Length', '17'],
      ['Moved Permanently'],
    ]);
    const hosted = urlMap({ 'http://bar.example.com/site/': reporter('site') });
    expect((hosted(fakeEnv({ PATH_INFO: '/site', HTTP_HOST: 'bar.example.com' })) as Response)[1]).toContain('/site/');
  });

  it('redirects with 308 for methods other than GET and HEAD, so the method and body are kept', () => {
    expect((app(fakeEnv({ PATH_INFO: '/bar', REQUEST_METHOD: 'HEAD' })) as Response)[0]).toBe(301);
    const post = app(fakeEnv({ PATH_INFO: '/bar', REQUEST_METHOD: 'POST' })) as Response;
    expect(post[0]).toBe(308);
    expect(post[1].slice(0, 2)).toEqual(['Location', '/bar/']);
  });

  it('passes the root of a location without a trailing slash to its app, as Plack does', () => {
    expect(call(app, '/foo')).toBe('foo|/foo|');
    const file = urlMap({ '/robots.txt': reporter('robots') });
    expect(call(file, '/robots.txt')).toBe('robots|/robots.txt|');
  });

  it('builds the redirect from SCRIPT_NAME, percent-encoded, under an outer mount', () => {
    const inner = urlMap({ '/caf\xc3\xa9 x/': reporter('cafe') });
    const outer = urlMap({ '/app/': inner });
    const res = outer(fakeEnv({ PATH_INFO: '/app/caf\xc3\xa9 x' })) as Response;
    expect(res[0]).toBe(301);
    expect(res[1].slice(0, 2)).toEqual(['Location', '/app/caf%C3%A9%20x/']);
    expect(call(outer, '/app')).toBe('301');
  });

  it('never redirects to another site when the location starts with several slashes', () => {
    const res = urlMap({ '//evil.example/': reporter('x') })(fakeEnv({ PATH_INFO: '//evil.example' })) as Response;
    expect(res[1].slice(0, 2)).toEqual(['Location', '/evil.example/']);
  });

  it('answers 404 Not Found when nothing matches', () => {
    const only = urlMap({ '/api': reporter('api') });
    const res = only(fakeEnv({ PATH_INFO: '/apix' })) as Response;
    expect(res[0]).toBe(404);
    expect(res[2]).toEqual(['Not Found']);
  });

  it('rejects a mount path without a leading slash, naming it', () => {
    expect(() => urlMap({ api: reporter('x') })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_MOUNT_PATH', message: expect.stringContaining('"api"') }),
    );
  });

  it('rejects a mount target that is not an app', () => {
    expect(() => urlMap({ '/x': 'nope' as unknown as App })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_MOUNT_APP' }),
    );
  });
});
