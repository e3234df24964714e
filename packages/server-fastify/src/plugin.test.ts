import { PlankError } from '@plank/core';
import type { App, Env } from '@plank/core';
import { rawRequest, socketRequester } from '@plank/test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { plankPlugin } from './index.js';

// Echoes where the request landed and the raw body it read from psgi.input.
const echo: App = async (env: Env) => {
  const parts: Buffer[] = [];
  for await (const chunk of env['psgi.input']) parts.push(chunk as Buffer);
  const body = {
    script: env.SCRIPT_NAME,
    path: env.PATH_INFO,
    query: env.QUERY_STRING,
    method: env.REQUEST_METHOD,
    body: Buffer.concat(parts).toString('latin1'),
  };
  return [200, ['Content-Type', 'application/json'], [JSON.stringify(body)]];
};

let fastify: FastifyInstance | undefined;
afterEach(async () => {
  await fastify?.close();
  fastify = undefined;
});

async function start(setup: (f: FastifyInstance) => void): Promise<number> {
  fastify = Fastify();
  setup(fastify);
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = fastify.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('plankPlugin', () => {
  it('mounts the app under its prefix next to a native route, moving the prefix to SCRIPT_NAME', async () => {
    const port = await start((f) => {
      f.get('/health', async () => ({ native: true }));
      f.register(plankPlugin(echo, { prefix: '/legacy' }));
    });
    const request = socketRequester(port);

    const deep = await request('/legacy/a/b%20c?x=1');
    expect(deep.status).toBe(200);
    expect(JSON.parse(deep.text)).toMatchObject({ script: '/legacy', path: '/a/b c', query: 'x=1' });

    expect(JSON.parse((await request('/legacy')).text)).toMatchObject({ script: '/legacy', path: '' });
    expect(JSON.parse((await request('/legacy/')).text)).toMatchObject({ script: '/legacy', path: '/' });
    expect(JSON.parse((await request('/health')).text)).toEqual({ native: true });
    // A prefix only matches on a `/` boundary, so this is fastify's own 404.
    const sibling = await request('/legacyx');
    expect(sibling.status).toBe(404);
    expect(sibling.text).toContain('Route GET:/legacyx not found');
  });

  it('leaves the body unread for the app while native routes still get parsed JSON', async () => {
    const port = await start((f) => {
      f.post('/native', async (req) => ({ parsed: req.body }));
      f.register(plankPlugin(echo, { prefix: '/app' }));
    });
    const request = socketRequester(port);
    const json = '{"a": [1, 2]}';
    const headers = { 'Content-Type': 'application/json' };

    const mounted = await request('/app/form', { method: 'POST', body: json, headers });
    expect(JSON.parse(mounted.text)).toMatchObject({ method: 'POST', body: json });
    // A type fastify has no parser for is still the app's to read.
    const other = await request('/app/upload', {
      method: 'PUT',
      body: 'x=1&y=2',
      headers: { 'Content-Type': 'application/x-custom' },
    });
    expect(JSON.parse(other.text)).toMatchObject({ method: 'PUT', body: 'x=1&y=2' });
    expect(JSON.parse((await request('/native', { method: 'POST', body: json, headers })).text)).toEqual({
      parsed: { a: [1, 2] },
    });
  });

  it('adds the prefix given to register in front of its own prefix', async () => {
    const port = await start((f) => {
      f.register(plankPlugin(echo, { prefix: '/b' }), { prefix: '/a' });
      f.register(plankPlugin(echo), { prefix: '/c' });
    });
    const request = socketRequester(port);
    expect(JSON.parse((await request('/a/b/x')).text)).toMatchObject({ script: '/a/b', path: '/x' });
    expect(JSON.parse((await request('/c')).text)).toMatchObject({ script: '/c', path: '' });
    expect(JSON.parse((await request('/c/y')).text)).toMatchObject({ script: '/c', path: '/y' });
  });

  it('runs fastify hooks around the app: their headers go out (the app wins on a clash) and onResponse sees the status', async () => {
    const app: App = () => [201, ['Content-Type', 'text/plain', 'X-Frame-Options', 'SAMEORIGIN'], ['made']];
    const seen: Array<[string, number]> = [];
    const port = await start((f) => {
      f.addHook('onRequest', async (_req, reply) => {
        reply.header('access-control-allow-origin', '*');
        reply.header('x-frame-options', 'DENY');
      });
      f.addHook('onResponse', async (req, reply) => {
        seen.push([req.url, reply.statusCode]);
      });
      f.register(plankPlugin(app, { prefix: '/p' }));
    });
    const res = await socketRequester(port)('/p/thing');
    expect(res.status).toBe(201);
    expect(res.text).toBe('made');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    await expect.poll(() => seen).toEqual([['/p/thing', 201]]);
  });

  it('streams a response written through the responder and answers HEAD without a body', async () => {
    const app: App = () => async (respond) => {
      const writer = respond([200, ['Content-Type', 'text/plain']]);
      for (const word of ['one ', 'two ', 'three']) await writer.write(word);
      await writer.close();
    };
    const port = await start((f) => f.register(plankPlugin(app, { prefix: '/s' })));
    const res = await rawRequest(port, 'GET /s/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.text).toBe('one two three');
    const head = await rawRequest(port, 'HEAD /s/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('mounted at the root, answers every path no native route claims', async () => {
    const port = await start((f) => {
      f.get('/health', async () => ({ native: true }));
      f.register(plankPlugin(echo));
    });
    const request = socketRequester(port);
    expect(JSON.parse((await request('/health')).text)).toEqual({ native: true });
    expect(JSON.parse((await request('/')).text)).toMatchObject({ script: '', path: '/' });
    expect(JSON.parse((await request('/health/deeper?q')).text)).toMatchObject({
      script: '',
      path: '/health/deeper',
      query: 'q',
    });
  });

  it("keeps fastify's own request checks in front of the mount", async () => {
    const port = await start((f) => f.register(plankPlugin(echo, { prefix: '/m' })));
    const badType = await rawRequest(
      port,
      'POST /m/x HTTP/1.1\r\nHost: t\r\nContent-Type: not a type\r\nContent-Length: 1\r\nConnection: close\r\n\r\na',
    );
    expect(badType.status).toBe(415);
    const badEscape = await rawRequest(port, 'GET /m/%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(badEscape.status).toBe(400);
    expect(badEscape.text).toContain('FST_ERR_BAD_URL');
  });

  it('mounts a prefix with a trailing slash as a directory, redirecting its root there with the query', async () => {
    const port = await start((f) => {
      f.register(plankPlugin(echo, { prefix: '/site/' }));
      f.register(plankPlugin(echo, { prefix: '/b/' }), { prefix: '/a' });
    });
    const request = socketRequester(port);
    const root = await request('/site?x=1');
    expect(root.status).toBe(301);
    expect(root.headers.location).toBe('/site/?x=1');
    expect((await request('/site', { method: 'POST', body: 'x' })).status).toBe(308);
    expect(JSON.parse((await request('/site/')).text)).toMatchObject({ script: '/site', path: '/' });
    expect(JSON.parse((await request('/site/page')).text)).toMatchObject({ script: '/site', path: '/page' });
    expect((await request('/a/b')).headers.location).toBe('/a/b/');
    expect(JSON.parse((await request('/a/b/x')).text)).toMatchObject({ script: '/a/b', path: '/x' });
    expect(JSON.parse((await request('/a/b/')).text)).toMatchObject({ script: '/a/b', path: '/' });
  });

  it('routes only the methods it is given', async () => {
    const port = await start((f) => f.register(plankPlugin(echo, { prefix: '/ro', methods: ['GET', 'HEAD'] })));
    const request = socketRequester(port);
    expect((await request('/ro/x')).status).toBe(200);
    expect((await request('/ro/x', { method: 'DELETE' })).status).toBe(404);
  });

  it('rejects bad options when called, naming the option and the value', () => {
    const bad: Array<[unknown, string]> = [
      [{ prefix: 'legacy' }, 'option "prefix" must be "" or a path starting with "/"'],
      [{ prefix: '/legacy//' }, '"/legacy//"'],
      [{ prefix: '/' }, 'option "prefix" must be "" or a path'],
      [{ prefix: '/user/:id' }, '"/user/:id"'],
      [{ errors: 'stderr' }, 'option "errors" must have a write(string) method, got "stderr"'],
      [{ methods: ['get'] }, 'option "methods"'],
      ['/x', 'options must be an object'],
      [{ prefx: '/x' }, 'unknown option "prefx" (did you mean "prefix"?'],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        plankPlugin(echo, options as never);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PlankError);
      expect(error).toMatchObject({ code: 'PLANK_ERR_SERVER_FASTIFY_OPTION' });
      expect((error as Error).message).toContain(message);
    }
    expect(() => plankPlugin('app.ts' as never)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_FASTIFY_APP' }));
  });

  it('fails registration when the register prefix holds route parameters', async () => {
    fastify = Fastify();
    fastify.register(plankPlugin(echo), { prefix: '/t/:tenant' });
    await expect(fastify.ready()).rejects.toMatchObject({ code: 'PLANK_ERR_SERVER_FASTIFY_OPTION' });
  });
});
