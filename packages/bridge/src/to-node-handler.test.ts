import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import type { App } from '@plank/core';
import connect from 'connect';
import express from 'express';
import { Hono } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { toNodeHandler } from './index.js';

// Reports where it was mounted, what it saw and the body it read.
const reporter: App = async (env) => {
  let body = '';
  for await (const chunk of env['psgi.input']) body += chunk;
  return [
    200,
    ['Content-Type', 'text/plain'],
    [`${env.REQUEST_METHOD} ${env.SCRIPT_NAME}|${env.PATH_INFO}?${env.QUERY_STRING} ${body}`],
  ];
};

async function on(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('toNodeHandler', () => {
  it('runs a Plank app under an express mount, with the mount point as SCRIPT_NAME', async () => {
    const site = express();
    site.use('/plank', toNodeHandler(reporter));
    site.get('/', (_req, res) => res.send('express'));
    const s = await on(createServer(site));
    try {
      expect(await (await fetch(`${s.url}/plank/a/b?x=1`)).text()).toBe('GET /plank|/a/b?x=1 ');
      expect(await (await fetch(`${s.url}/plank/p`, { method: 'POST', body: 'data' })).text()).toBe(
        'POST /plank|/p? data',
      );
      expect(await (await fetch(`${s.url}/`)).text()).toBe('express');
    } finally {
      await s.close();
    }
  });

  it('runs a Plank app under a connect mount', async () => {
    const app = connect();
    app.use('/api', toNodeHandler(reporter));
    const s = await on(createServer(app));
    try {
      expect(await (await fetch(`${s.url}/api/users`)).text()).toBe('GET /api|/users? ');
    } finally {
      await s.close();
    }
  });

  it('runs a Plank app inside koa, with koa leaving the response to it', async () => {
    const koa = new Koa();
    const handler = toNodeHandler(reporter);
    koa.use((ctx) => {
      ctx.respond = false;
      handler(ctx.req, ctx.res);
    });
    const s = await on(createServer(koa.callback()));
    try {
      expect(await (await fetch(`${s.url}/k?q=2`)).text()).toBe('GET |/k?q=2 ');
    } finally {
      await s.close();
    }
  });

  it("runs a Plank app inside Hono's node server, on its incoming and outgoing pair", async () => {
    const hono = new Hono<{
      Bindings: { incoming: Parameters<typeof handler>[0]; outgoing: Parameters<typeof handler>[1] };
    }>();
    const handler = toNodeHandler(reporter);
    hono.get('/hono', (c) => c.text('hono'));
    hono.all('*', (c) => {
      handler(c.env.incoming, c.env.outgoing);
      return RESPONSE_ALREADY_SENT;
    });
    const server = honoServe({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/hono`)).text()).toBe('hono');
      expect(await (await fetch(`http://127.0.0.1:${port}/plank/x`)).text()).toBe('GET |/plank/x? ');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses something that is not an app', () => {
    expect(() => toNodeHandler(42 as never)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_BRIDGE_HANDLER' }));
  });
});
