import { Readable } from 'node:stream';
import { builder, lint, urlMap } from '@plank/core';
import { accessLog } from '@plank/middleware-access-log';
import { reverseProxy } from '@plank/middleware-reverse-proxy';
import { listen, rawRequest, until } from '@plank/test';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { fromNodeHandler } from './index.js';

// A legacy express app as a team would have it: routes, JSON bodies, streaming, redirects.
function legacyApp() {
  const app = express();
  app.set('trust proxy', false);
  app.get('/hello', (_req, res) => {
    res.type('text/plain').send('hello from express');
  });
  app.get('/who', (req, res) => {
    res.json({ ip: req.ip, url: req.url, originalUrl: req.originalUrl, secure: req.secure });
  });
  app.post('/echo', express.json(), (req, res) => {
    res.status(201).json({ got: req.body });
  });
  app.get('/stream', async (_req, res) => {
    res.type('text/plain');
    for (let i = 0; i < 3; i++) {
      res.write(`part ${i}\n`);
      await new Promise((r) => setTimeout(r, 20));
    }
    res.end('end\n');
  });
  app.get('/old', (_req, res) => {
    res.redirect(301, '/hello');
  });
  app.get('/cookies', (_req, res) => {
    res.cookie('a', '1');
    res.cookie('b', '2');
    res.send('two cookies');
  });
  return app;
}

describe('fromNodeHandler', () => {
  it('serves an express app through Plank with its status, headers and body', async () => {
    const server = await listen(lint(fromNodeHandler(legacyApp())));
    try {
      const res = await fetch(`${server.url}hello`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('x-powered-by')).toBe('Express');
      expect(await res.text()).toBe('hello from express');
      const moved = await fetch(`${server.url}old`, { redirect: 'manual' });
      expect(moved.status).toBe(301);
      expect(moved.headers.get('location')).toBe('/hello');
      const missing = await fetch(`${server.url}nowhere`);
      expect(missing.status).toBe(404);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('streams the request body into express and keeps repeated response headers', async () => {
    const server = await listen(lint(fromNodeHandler(legacyApp())));
    try {
      const res = await fetch(`${server.url}echo`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'plank', list: [1, 2] }),
      });
      expect(res.status).toBe(201);
      expect(await res.json()).toEqual({ got: { name: 'plank', list: [1, 2] } });
      const cookies = await fetch(`${server.url}cookies`);
      expect(cookies.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('passes streamed writes on as they happen, not at the end', async () => {
    const server = await listen(fromNodeHandler(legacyApp()));
    try {
      const res = await fetch(`${server.url}stream`);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      // The first part arrives while express is still waiting before its next write.
      expect(new TextDecoder().decode(first.value)).toBe('part 0\n');
      let rest = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      expect(rest).toBe('part 1\npart 2\nend\n');
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('gives express the client address as ReverseProxy rewrote it, and the path below the mount', async () => {
    const app = builder(({ enable, mount }) => {
      enable(reverseProxy({ trusted: ['loopback'] }));
      mount('/legacy', fromNodeHandler(legacyApp()));
    });
    const server = await listen(lint(app));
    try {
      const res = await fetch(`${server.url}legacy/who?x=1`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
      expect(await res.json()).toEqual({ ip: '203.0.113.7', url: '/who?x=1', originalUrl: '/who?x=1', secure: false });
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('lets AccessLog see the status, the bytes and the time to the last byte of the express response', async () => {
    const lines: string[] = [];
    const app = builder(({ enable }) => {
      enable(accessLog({ format: '%s %b %U %{ms}T', logger: (line: string) => lines.push(line) }));
      return fromNodeHandler(legacyApp());
    });
    const server = await listen(lint(app));
    try {
      await (await fetch(`${server.url}hello`)).text();
      await (await fetch(`${server.url}stream`)).text();
      await (await fetch(`${server.url}nowhere`)).text();
      await until(() => lines.length === 3 || undefined, 'three access log lines');
      expect(lines[0]).toMatch(/^200 18 \/hello \d+\n$/);
      const [, , , ms] = (lines[1] as string).trim().split(' ');
      expect(lines[1]).toMatch(/^200 25 \/stream \d+\n$/);
      // Three pauses of 20 ms before the last byte: the time runs to the end of the stream.
      expect(Number(ms)).toBeGreaterThanOrEqual(55);
      expect(lines[2]).toMatch(/^404 \d+ \/nowhere \d+\n$/);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('tells express when the client goes away in the middle of a response', async () => {
    let closed = false;
    const slow = express();
    slow.get('/slow', (_req, res) => {
      res.on('close', () => {
        closed = true;
      });
      const timer = setInterval(() => res.write('x'.repeat(1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const server = await listen(fromNodeHandler(slow));
    try {
      const controller = new AbortController();
      const res = await fetch(`${server.url}slow`, { signal: controller.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      controller.abort();
      await until(() => closed, 'express to see the response close');
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('answers HEAD without a body, as express decides the headers', async () => {
    const server = await listen(lint(fromNodeHandler(legacyApp())));
    try {
      const res = await rawRequest(
        server.port as number,
        'HEAD /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('18');
      expect(res.body.length).toBe(0);
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('works under urlMap beside Plank apps, and for a body it streams from a Readable', async () => {
    const file = express();
    file.get('/big', (_req, res) => {
      res.type('application/octet-stream');
      Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) yield Buffer.alloc(16 * 1024, i);
        })(),
      ).pipe(res);
    });
    const app = urlMap({ '/files': fromNodeHandler(file), '/': () => [200, [], ['plank']] });
    const server = await listen(lint(app));
    try {
      const body = Buffer.from(await (await fetch(`${server.url}files/big`)).arrayBuffer());
      expect(body.length).toBe(64 * 16 * 1024);
      expect(body[16 * 1024 * 63]).toBe(63);
      expect(await (await fetch(server.url)).text()).toBe('plank');
    } finally {
      await server.close({ timeout: 100 });
    }
  });

  it('refuses something that is not a handler when it is wrapped', () => {
    expect(() => fromNodeHandler('app' as never)).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_BRIDGE_HANDLER' }),
    );
  });
});
