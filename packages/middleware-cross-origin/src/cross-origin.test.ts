import { join } from 'node:path';
import { builder, lint, type App, type Env, type PlankError } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { crossOrigin, type CrossOriginOptions } from './index.js';

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['Hello']];
const wrap = (options: CrossOriginOptions, app: App = hello): App => lint(crossOrigin(options)(lint(app)));

describe('CrossOrigin', () => {
  it('treats a request from the server own origin as same-origin: no CORS headers, no 403', async () => {
    await testApp(wrap({ origins: ['https://app.test'] }), async (request) => {
      for (const [host, origin] of [
        ['api.test', 'http://api.test'],
        ['api.test:80', 'http://api.test'],
        ['API.test:8080', 'http://api.test:8080'],
      ]) {
        const res = await request('/', { method: 'POST', headers: { Host: host as string, Origin: origin as string } });
        expect(res.status, `${host} ${origin}`).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers.vary).toBe('Origin');
      }
      const other = await request('/', { method: 'POST', headers: { Host: 'api.test', Origin: 'https://api.test' } });
      expect(other.status).toBe(403);
    });
  });

  it('asks an origin function, sync or async, with the origin and env', async () => {
    const seen: string[] = [];
    const sync = (origin: string, env: Env) => {
      seen.push(`${origin} ${env.PATH_INFO}`);
      return origin.endsWith('.good.test');
    };
    const async = async (origin: string) => origin.endsWith('.good.test');
    for (const origins of [sync, async]) {
      await testApp(wrap({ origins }), async (request) => {
        expect(
          (await request('/x', { headers: { Origin: 'https://a.good.test' } })).headers['access-control-allow-origin'],
        ).toBe('https://a.good.test');
        expect((await request('/x', { headers: { Origin: 'https://a.bad.test' } })).status).toBe(403);
      });
    }
    expect(seen).toEqual(['https://a.good.test /x', 'https://a.bad.test /x']);
  });

  it('matches RegExps and the null origin only when listed', async () => {
    await testApp(wrap({ origins: [/^https:\/\/[a-z]+\.example\.com$/, 'null'] }), async (request) => {
      for (const [origin, allowed] of [
        ['https://shop.example.com', true],
        ['https://shop.example.com.evil.test', false],
        ['null', true],
      ] as const) {
        const res = await request('/', { headers: { Origin: origin } });
        expect(res.status, origin).toBe(allowed ? 200 : 403);
        expect(res.headers['access-control-allow-origin'], origin).toBe(allowed ? origin : undefined);
      }
    });
  });

  it('adds its headers to streaming responses too', async () => {
    const streaming: App = () => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain', 'X-Total', '3']]);
      await writer.write('abc');
      await writer.close();
    };
    await testApp(wrap({ origins: '*', exposeHeaders: '*' }, streaming), async (request) => {
      const res = await request('/', { headers: { Origin: 'https://a.test' } });
      expect(res.text).toBe('abc');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toBe('Vary, X-Total');
    });
  });

  it('refuses a preflight asking for a header not listed, comparing names in any case', async () => {
    await testApp(wrap({ origins: '*', headers: ['X-Token', 'Content-Type'] }), async (request) => {
      const ask = (headers: string) =>
        request('/', {
          method: 'OPTIONS',
          headers: {
            Origin: 'https://a.test',
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': headers,
          },
        });
      expect((await ask('x-token, content-type')).status).toBe(204);
      expect((await ask('x-token, x-other')).status).toBe(403);
    });
  });

  it('rejects bad or missing options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /option "origins" is required/],
      [{}, /option "origins" is required/],
      [{ origins: 'app.example.com' }, /option "origins" must be .*got "app.example.com"/],
      [{ origins: ['https://a.test/path'] }, /option "origins" .*got \["https:\/\/a.test\/path"\]/],
      [{ origins: '*', methods: 'GET' }, /option "methods" .*got "GET"/],
      [{ origins: '*', headers: ['X Token'] }, /option "headers"/],
      [{ origins: '*', maxAge: -1 }, /option "maxAge" must be an integer >= 0, got -1/],
      [{ origins: '*', credential: true }, /unknown option "credential" \(did you mean "credentials"\?/],
    ];
    for (const [options, message] of bad) {
      try {
        crossOrigin(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_CROSS_ORIGIN_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its Plack name in enable(), with options checked at build time', async () => {
    const resolveFrom = join(import.meta.dirname, '..');
    const app = builder(
      ({ enable }) => {
        enable('CrossOrigin', { origins: '*', maxAge: '600' });
        return hello;
      },
      { resolveFrom },
    );
    await testApp(lint(app), async (request) => {
      const res = await request('/', {
        method: 'OPTIONS',
        headers: { Origin: 'https://a.test', 'Access-Control-Request-Method': 'GET' },
      });
      expect(res.headers['access-control-max-age']).toBe('600');
    });
    expect(() => builder(({ enable }) => enable('CrossOrigin'), { resolveFrom })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_CROSS_ORIGIN_OPTION' }),
    );
  });
});
