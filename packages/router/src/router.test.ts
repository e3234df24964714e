import { builder, lint, type App, type Env } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { router, type RouteParams } from './index.js';

const text = (body: string) => [200, ['Content-Type', 'text/plain'], [body]] as [number, string[], string[]];

// Each handler reports what it saw, so a test reads the route, its parameters and the env.
const users = router((r) => {
  r.get('/', () => text('home'));
  r.get('/users/:id', (env, { id }) => text(`user ${id} via ${String(env['plank.router.route'])}`));
  r.post('/users', () => [201, ['Content-Type', 'text/plain'], ['created']]);
  r.delete('/users/:id', (_env, { id }) => text(`deleted ${id}`));
  r.get('/files/*', (_env, params) => text(`file ${params['*']}`));
  r.get('/range/:from-:to', (_env, { from, to }) => text(`${from}..${to}`));
  r.get('/n/:id(^\\d+)', (_env, { id }) => text(`number ${id}`));
  r.get('/where', (env) => text(`${env.SCRIPT_NAME}|${env.PATH_INFO}`));
});

describe('router', () => {
  it('calls the handler of the route that matches the method and path, with its parameters', async () => {
    await testApp(lint(users), async (request) => {
      expect((await request('/')).text).toBe('home');
      expect((await request('/users/42')).text).toBe('user 42 via /users/:id');
      expect((await request('/users', { method: 'POST', body: '{}' })).status).toBe(201);
      expect((await request('/users/7', { method: 'DELETE' })).text).toBe('deleted 7');
      expect((await request('/files/a/b/c.txt')).text).toBe('file a/b/c.txt');
      expect((await request('/range/3-9')).text).toBe('3..9');
      expect((await request('/n/12')).text).toBe('number 12');
    });
  });

  it('puts the parameters and the matched pattern in env', async () => {
    let seen: Env | undefined;
    const app = router((r) => {
      r.get('/a/:x/:y', (env) => {
        seen = env;
        return text('ok');
      });
    });
    await testApp(lint(app), async (request) => {
      await request('/a/1/2');
    });
    expect(seen?.['plank.router.params']).toEqual({ x: '1', y: '2' });
    expect(seen?.['plank.router.route']).toBe('/a/:x/:y');
  });

  it('answers HEAD with the GET route, without a body', async () => {
    await testApp(lint(users), async (request) => {
      const res = await request('/users/5', { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.text).toBe('');
    });
  });

  it('prefers an explicit HEAD route over the GET one', async () => {
    const app = router((r) => {
      r.get('/x', () => text('get'));
      r.head('/x', () => [200, ['X-Head', 'yes'], []]);
    });
    await testApp(lint(app), async (request) => {
      expect((await request('/x', { method: 'HEAD' })).headers['x-head']).toBe('yes');
    });
  });

  it('answers 405 with Allow when the path exists for other methods only', async () => {
    await testApp(lint(users), async (request) => {
      const res = await request('/users/5', { method: 'PUT', body: 'x' });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, DELETE, OPTIONS');
      expect(res.text).toBe('Method Not Allowed');
      expect((await request('/users', { method: 'GET' })).headers.allow).toBe('POST, OPTIONS');
    });
  });

  it('answers OPTIONS with 204 and Allow, unless a route answers it', async () => {
    const app = router((r) => {
      r.get('/a', () => text('a'));
      r.options('/b', () => [200, ['X-Own', '1'], []]);
      r.get('/b', () => text('b'));
    });
    await testApp(lint(app), async (request) => {
      const a = await request('/a', { method: 'OPTIONS' });
      expect(a.status).toBe(204);
      expect(a.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect((await request('/b', { method: 'OPTIONS' })).headers['x-own']).toBe('1');
      expect((await request('/nowhere', { method: 'OPTIONS' })).status).toBe(404);
    });
  });

  it('gives 404 Not Found for a path no route has, or hands the request to the fallback app', async () => {
    const fallback: App = (env) => text(`fallback ${env.REQUEST_METHOD} ${env.PATH_INFO}`);
    const withFallback = router((r) => r.get('/known', () => text('known')), { fallback });
    await testApp(lint(users), async (request) => {
      const res = await request('/nowhere');
      expect(res.status).toBe(404);
      expect(res.text).toBe('Not Found');
    });
    await testApp(lint(withFallback), async (request) => {
      expect((await request('/other', { method: 'POST', body: '' })).text).toBe('fallback POST /other');
      expect((await request('/known')).text).toBe('known');
    });
  });

  it('matches PATH_INFO, so it works the same mounted in a builder, with SCRIPT_NAME kept', async () => {
    const app = builder(({ mount }) => {
      mount('/api', users);
    });
    await testApp(lint(app), async (request) => {
      expect((await request('/api/users/3')).text).toBe('user 3 via /users/:id');
      expect((await request('/api/where')).text).toBe('/api|/where');
      expect((await request('/api/')).text).toBe('home');
    });
  });

  it('mounts a whole app under a prefix, moving the prefix to SCRIPT_NAME for it', async () => {
    const inner: App = (env) => text(`${env.REQUEST_METHOD} ${env.SCRIPT_NAME}|${env.PATH_INFO}`);
    const app = router((r) => {
      r.get('/', () => text('home'));
      r.mount('/admin', inner);
    });
    await testApp(lint(app), async (request) => {
      expect((await request('/admin/users/1')).text).toBe('GET /admin|/users/1');
      expect((await request('/admin/x', { method: 'POST', body: '' })).text).toBe('POST /admin|/x');
      expect((await request('/administrator')).status).toBe(404);
    });
  });

  it('decodes parameters once, as UTF-8, without cutting at an encoded ? or #', async () => {
    const echo = router((r) => r.get('/p/:v', (_env, { v }) => text(v)));
    await testApp(lint(echo), async (request) => {
      expect((await request('/p/caf%C3%A9')).text).toBe('café');
      expect((await request('/p/a%3Fb')).text).toBe('a?b');
      expect((await request('/p/a%23b')).text).toBe('a#b');
      expect((await request('/p/100%25')).text).toBe('100%');
      expect((await request('/p/a%20b')).text).toBe('a b');
    });
  });

  it('treats a path that is not valid UTF-8 as matching no parameterised route', async () => {
    const echo = router((r) => r.get('/p/:v', (_env, { v }) => text(v)));
    await testApp(lint(echo), async (request) => {
      expect((await request('/p/%FF')).status).toBe(404);
    });
  });

  it('serves methods it has no route for from the fallback, whatever their name', async () => {
    const app = router((r) => r.get('/', () => text('home')));
    for (const method of ['constructor', '__proto__', 'toString', 'BREW']) {
      const res = (await app({ ...fakeEnvFor('/x'), REQUEST_METHOD: method })) as [number, string[], unknown];
      expect(res[0]).toBe(404);
    }
  });

  it('refuses a bad route when it is added, naming the method and path', () => {
    const h = () => text('x');
    expect(() => router((r) => r.get('no-slash', h))).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ROUTER_ROUTE', message: expect.stringContaining('"no-slash"') }),
    );
    expect(() =>
      router((r) => {
        r.get('/dup', h);
        r.get('/dup', h);
      }),
    ).toThrow(expect.objectContaining({ code: 'PLANK_ERR_ROUTER_ROUTE', message: expect.stringMatching(/GET \/dup/) }));
    expect(() => router((r) => r.route('BREW', '/pot', h))).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ROUTER_ROUTE', message: expect.stringContaining('"BREW"') }),
    );
    expect(() => router((r) => r.get('/x', 'nope' as never))).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ROUTER_ROUTE' }),
    );
  });

  it('refuses unknown and badly typed options when it is created', () => {
    expect(() => router(() => {}, { fallbak: () => text('x') } as never)).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ROUTER_OPTION', message: expect.stringContaining('"fallback"') }),
    );
    expect(() => router(() => {}, { maxParamLength: 0 })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ROUTER_OPTION', message: expect.stringContaining('maxParamLength') }),
    );
    expect(() => router('routes' as never)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_ROUTER_OPTION' }));
  });

  it('types parameters from the pattern', () => {
    expectTypeOf<RouteParams<'/users/:id'>>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<RouteParams<'/users/:id/files/*'>>().toEqualTypeOf<{ id: string; '*': string }>();
    expectTypeOf<RouteParams<'/range/:from-:to'>>().toEqualTypeOf<{ from: string; to: string }>();
    expectTypeOf<RouteParams<'/f/:name.:ext'>>().toEqualTypeOf<{ name: string; ext: string }>();
    expectTypeOf<RouteParams<'/n/:id(^\\d+)'>>().toEqualTypeOf<{ id: string }>();
    expectTypeOf<RouteParams<'/static'>>().toEqualTypeOf<Record<never, string>>();
  });
});

function fakeEnvFor(path: string): Env {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: path,
    REQUEST_URI: path,
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
  } as Env;
}
