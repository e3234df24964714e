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

  it('ignores a trailing slash in the mount path', () => {
    expect(call(app, '/bar')).toBe('bar|/bar|');
    expect(call(app, '/bar/x')).toBe('bar|/bar|/x');
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
