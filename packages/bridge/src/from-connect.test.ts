import { gunzipSync } from 'node:zlib';
import { type App, builder, lint } from '@plank/core';
import { listen, rawRequest } from '@plank/test';
import compression from 'compression';
import cors from 'cors';
import helmet from 'helmet';
import { describe, expect, it } from 'vitest';
import { type ConnectMiddleware, fromConnect } from './index.js';

const json =
  (value: unknown): App =>
  () => [200, ['Content-Type', 'application/json'], [JSON.stringify(value)]];

async function serveWith(mw: ConnectMiddleware, app: App) {
  const errors: string[] = [];
  const stack = builder(({ enable }) => {
    enable(fromConnect(mw));
    return lint(app);
  });
  const server = await listen(stack, { errors: { write: (s: string) => errors.push(s) } } as never);
  return { server, errors };
}

describe('fromConnect', () => {
  it('adds the headers helmet sets to the Plank response', async () => {
    const { server } = await serveWith(helmet(), json({ ok: true }));
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await res.json()).toEqual({ ok: true });
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('lets cors answer a preflight itself and add its headers to simple requests', async () => {
    const { server } = await serveWith(cors({ origin: 'https://app.example', credentials: true }), json({ ok: 1 }));
    try {
      const preflight = await fetch(server.url, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'PUT' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,HEAD,PUT,PATCH,POST,DELETE');
      const simple = await fetch(server.url, { headers: { Origin: 'https://app.example' } });
      expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(simple.headers.get('access-control-allow-credentials')).toBe('true');
      expect(simple.headers.get('vary')).toBe('Origin');
      expect(await simple.json()).toEqual({ ok: 1 });
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('compresses the Plank body with compression, which wraps res.write and res.end', async () => {
    const big = { items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item ${i}` })) };
    const { server } = await serveWith(compression({ threshold: 0 }), json(big));
    try {
      const res = await rawRequest(
        server.port as number,
        'GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n',
      );
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(res.headers['content-length']).toBeUndefined();
      expect(JSON.parse(gunzipSync(res.body).toString())).toEqual(big);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('streams a streaming Plank response through the middleware', async () => {
    const streaming: App = () => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']]);
      for (const part of ['a', 'b', 'c']) await w.write(part);
      await w.close();
    };
    const { server } = await serveWith(helmet(), streaming);
    try {
      const res = await fetch(server.url);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe('abc');
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('fails the request with the error a middleware passes to next()', async () => {
    const broken: ConnectMiddleware = function broken(_req, _res, next) {
      next(new Error('bad token'));
    };
    const { server, errors } = await serveWith(broken, json({}));
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(500);
      expect(errors.join('')).toContain('bad token');
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('refuses a middleware that rewrites the URL before next(), naming it', async () => {
    const rewrite: ConnectMiddleware = function rewriteToIndex(req, _res, next) {
      req.url = '/index.html';
      next();
    };
    const { server, errors } = await serveWith(rewrite, json({}));
    try {
      expect((await fetch(`${server.url}page`)).status).toBe(500);
      expect(errors.join('')).toMatch(/PLANK_ERR_BRIDGE_REWRITE|rewriteToIndex changed the request/);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('refuses a middleware that read the body before next(), naming it', async () => {
    const reader: ConnectMiddleware = function bodyReader(req, _res, next) {
      req.on('data', () => {});
      req.on('end', () => next());
    };
    const { server, errors } = await serveWith(reader, json({}));
    try {
      expect((await fetch(server.url, { method: 'POST', body: 'hello' })).status).toBe(500);
      expect(errors.join('')).toContain('bodyReader read the request body before next()');
    } finally {
      await server.close({ timeout: 100 });
    }
  });
});
