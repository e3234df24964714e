// The cases of Plack::Middleware::CrossOrigin's t/basic.t, re-expressed. Two of its cases
// are left out on purpose: the Referer workaround for WebKit before 534.19 (2011 browsers;
// Plank does not guess an origin from Referer), and an empty Access-Control-Expose-Headers
// on every allowed response (Plank sends the header only when it lists something).
// Preflights answer 204 here where Plack answers 200 (what express's cors does; both work),
// and a preflight whose methods or headers are echoed ('*') also varies on
// Access-Control-Request-Method / -Headers, which Plack leaves out.
import { builder, lint, type App } from '@plank/core';
import { testApp, type Requester } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { crossOrigin, type CrossOriginOptions } from './index.js';

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['Hello World']];
const stack = (options: CrossOriginOptions, app: App = hello): App =>
  lint(
    builder(({ enable }) => {
      enable(crossOrigin(options));
      return lint(app);
    }),
  );
const example = 'http://www.example.com';
const preflight = (request: Requester, origin: string, method: string, headers?: string) =>
  request('/', {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': method,
      ...(headers ? { 'Access-Control-Request-Headers': headers } : {}),
    },
  });

describe('Plack::Middleware::CrossOrigin t/basic.t cases', () => {
  it('any origin, any header, any method: Vary always, Allow-Origin *, Max-Age only on preflights', async () => {
    const options: CrossOriginOptions = {
      origins: '*',
      headers: '*',
      methods: '*',
      credentials: false,
      maxAge: 60 * 60 * 24 * 30,
      exposeHeaders: ['X-Exposed-Header'],
    };
    await testApp(stack(options), async (request) => {
      let res = await request('/');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers.vary).toBe('Origin');

      res = await request('/', { headers: { Origin: example } });
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toBe('X-Exposed-Header');
      expect(res.headers['access-control-max-age']).toBeUndefined();
      expect(res.headers.vary).toBe('Origin');
      expect(res.text).toBe('Hello World');

      res = await preflight(request, example, 'POST');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('POST');
      expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      expect(res.headers['access-control-max-age']).toBe(String(60 * 60 * 24 * 30));

      res = await preflight(request, example, 'POST', 'X-Extra-Header');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-headers']).toBe('X-Extra-Header');
    });
  });

  it('listed origin, methods and headers: listed values returned, anything else refused with 403 and Vary', async () => {
    const app: App = () => [200, ['Content-Type', 'text/plain', 'X-Some-Other-Header', 'true'], ['Hello World']];
    const options: CrossOriginOptions = {
      origins: [example],
      methods: ['GET', 'POST'],
      headers: ['X-Extra-Header', 'X-Extra-Header-2'],
      maxAge: 60 * 60 * 24 * 30,
      exposeHeaders: '*',
    };
    await testApp(stack(options, app), async (request) => {
      let res = await preflight(request, example, 'POST', 'X-Extra-Header');
      expect(res.headers['access-control-allow-origin']).toBe(example);
      expect(res.headers['access-control-allow-headers']).toBe('X-Extra-Header, X-Extra-Header-2');
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST');
      expect(res.headers.vary).toBe('Origin');

      for (const [origin, method, headers] of [
        [example, 'POST', 'X-Extra-Header-Other'],
        ['http://www.example2.com', 'POST', undefined],
        [example, 'DELETE', undefined],
      ] as const) {
        res = await preflight(request, origin, method, headers);
        expect(res.status).toBe(403);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(res.headers.vary).toBe('Origin');
      }

      res = await request('/', { method: 'OPTIONS', headers: { Origin: example } });
      expect(res.text).toBe('Hello World');
      expect(res.headers['access-control-expose-headers']).toBe('Vary, X-Some-Other-Header');
      expect(res.headers.vary).toBe('Origin');
    });
  });

  it('credentials with any origin: Allow-Credentials true and the origin echoed, not *', async () => {
    await testApp(stack({ origins: '*', methods: '*', credentials: true }), async (request) => {
      const res = await preflight(request, example, 'POST');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-origin']).toBe(example);
      expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    });
  });

  it('a simple request from an origin not allowed gets 403 before the app runs, with Vary', async () => {
    let ran = false;
    const app: App = () => {
      ran = true;
      return [200, ['Content-Type', 'text/plain'], ['Hello World']];
    };
    await testApp(stack({ origins: 'http://localhost' }, app), async (request) => {
      const res = await request('/', { method: 'POST', headers: { Origin: example } });
      expect(res.status).toBe(403);
      expect(ran).toBe(false);
      expect(res.headers.vary).toBe('Origin');
    });
  });

  it('continueOnFailure runs the app for simple requests without CORS headers, but never for preflights', async () => {
    let ran = false;
    const app: App = () => {
      ran = true;
      return [200, ['Content-Type', 'text/plain'], ['Hello World']];
    };
    await testApp(stack({ origins: 'http://localhost', continueOnFailure: true }, app), async (request) => {
      let res = await request('/', { method: 'POST', headers: { Origin: example } });
      expect(ran).toBe(true);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers.vary).toBe('Origin');

      ran = false;
      res = await preflight(request, example, 'POST');
      expect(ran).toBe(false);
      expect(res.status).toBe(403);
      expect(res.headers.vary).toBe('Origin');
    });
  });

  it('extends an existing Vary, and does not repeat Origin in it', async () => {
    for (const [vary, want] of [
      ['Accept-Language', 'Accept-Language, Origin'],
      ['Origin, Accept-Language', 'Origin, Accept-Language'],
    ]) {
      const app: App = () => [200, ['Content-Type', 'text/plain', 'Vary', vary as string], ['Hello World']];
      await testApp(stack({ origins: 'http://localhost' }, app), async (request) => {
        expect((await request('/', { headers: { Origin: 'http://localhost' } })).headers.vary).toBe(want);
      });
    }
  });

  it('sends each list as one comma-separated header, not one header per value', async () => {
    const options: CrossOriginOptions = {
      origins: [example],
      methods: ['GET', 'POST'],
      headers: ['X-Extra-Header', 'X-Extra-Header-2'],
      exposeHeaders: ['X-Exposed-Header', 'X-Exposed-Header2'],
    };
    await testApp(stack(options), async (request) => {
      const res = await preflight(request, example, 'POST');
      const names = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      for (const name of [
        'access-control-allow-origin',
        'access-control-allow-methods',
        'access-control-allow-headers',
      ])
        expect(names.filter((n) => n === name)).toHaveLength(1);
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST');
      expect(res.headers['access-control-allow-headers']).toBe('X-Extra-Header, X-Extra-Header-2');
      const simple = await request('/', { headers: { Origin: example } });
      expect(simple.headers['access-control-expose-headers']).toBe('X-Exposed-Header, X-Exposed-Header2');
    });
  });

  it('a * inside an origin matches host characters: www and www2 yes, another domain no', async () => {
    await testApp(stack({ origins: ['http://*.example.com'] }), async (request) => {
      for (const [origin, allowed] of [
        ['http://www.example.com', true],
        ['http://www2.example.com', true],
        ['http://www.example2.com', false],
        ['http://evil.test/.example.com', false],
      ] as const) {
        const res = await request('/', { headers: { Origin: origin } });
        expect(res.headers['access-control-allow-origin'], origin).toBe(allowed ? origin : undefined);
      }
    });
  });
});
