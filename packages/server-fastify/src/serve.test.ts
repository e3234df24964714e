import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, Env } from '@plank/core';
import { rawRequest, until } from '@plank/test';
import { afterEach, describe, expect, it } from 'vitest';
import { serve } from './index.js';
import type { FastifyServerHandle } from './index.js';

const echo: App = async (env: Env) => {
  const parts: Buffer[] = [];
  for await (const chunk of env['psgi.input']) parts.push(chunk as Buffer);
  return [
    200,
    ['Content-Type', 'text/plain'],
    [
      `${env.REQUEST_METHOD} ${env.SCRIPT_NAME}|${env.PATH_INFO}|${env.QUERY_STRING}|${Buffer.concat(parts).toString('latin1')}`,
    ],
  ];
};

const handles: FastifyServerHandle[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close({ timeout: 100 })));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(
  app: App,
  options: Parameters<typeof serve>[1] = { host: '127.0.0.1', port: 0 },
): Promise<FastifyServerHandle> {
  const handle = await serve(app, options);
  handles.push(handle);
  return handle;
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plank-fastify-'));
  dirs.push(dir);
  return dir;
}

const get = (target: string, extra = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: t\r\n${extra}Connection: close\r\n\r\n`;

/** A raw connection that has sent `request` (possibly nothing), reading as it comes; `closed` settles when it closes. */
async function openSocket(
  port: number,
  request: string,
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  if (request !== '') socket.write(request);
  return { socket, received: () => text, closed };
}

describe('serve', () => {
  it('hands every request to the app, even those fastify would refuse or not route', async () => {
    const { port } = await start(echo);
    const p = port as number;
    const cases: Array<[string, string]> = [
      [get('/a/b?x=1'), 'GET |/a/b|x=1|'],
      [get('http://example.com/abs?q'), 'GET |/abs|q|'],
      [get('/bad%zz%C3%A9'), 'GET |/bad%zz\u00c3\u00a9||'],
      [`OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, 'OPTIONS |*||'],
      [`PURGE /cache HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, 'PURGE |/cache||'],
      [
        `POST /f HTTP/1.1\r\nHost: t\r\nContent-Type: not a type\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`,
        'POST |/f||abc',
      ],
      [
        `POST /j HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}`,
        'POST |/j||{"a":1}',
      ],
      [get(`/${'x'.repeat(300)}`), `GET |/${'x'.repeat(300)}||`],
    ];
    for (const [raw, expected] of cases) {
      const res = await rawRequest(p, raw);
      expect({ raw, status: res.status, text: res.text }).toEqual({ raw, status: 200, text: expected });
    }
  });

  it('sends file bodies, ranges of them and streamed bodies, and no body for HEAD', async () => {
    const file = join(scratch(), 'data.txt');
    writeFileSync(file, '0123456789');
    const app: App = (env) => {
      if (env.PATH_INFO === '/file') return [200, ['Content-Type', 'text/plain'], { path: file }];
      if (env.PATH_INFO === '/range') return [206, ['Content-Type', 'text/plain'], { path: file, start: 2, end: 5 }];
      return (respond) => {
        const writer = respond([200, ['Content-Type', 'text/plain']]);
        void writer
          .write('a')
          .then(() => writer.write('b'))
          .then(() => writer.close());
      };
    };
    const { port } = await start(app);
    const p = port as number;
    expect((await rawRequest(p, get('/file'))).text).toBe('0123456789');
    expect((await rawRequest(p, get('/range'))).text).toBe('2345');
    const streamed = await rawRequest(p, get('/stream'));
    expect(streamed.text).toBe('ab');
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    const head = await rawRequest(p, `HEAD /file HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('answers 500 and writes the stack to psgi.errors when the app throws', async () => {
    const lines: string[] = [];
    const { port } = await start(
      () => {
        throw new Error('boom in app');
      },
      { host: '127.0.0.1', port: 0, errors: { write: (s: string) => lines.push(s) } },
    );
    const res = await rawRequest(port as number, get('/'));
    expect(res.status).toBe(500);
    expect(lines.join('')).toContain('boom in app');
  });

  it('lets an in-flight request finish on close, telling its client to close the connection', async () => {
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inApp = new Promise<void>((resolve) => (arrived = resolve));
    const handle = await start(async () => {
      arrived();
      await gate;
      return [200, ['Content-Type', 'text/plain'], ['finished']];
    });
    const port = handle.port as number;
    const pending = rawRequest(port, `GET /slow HTTP/1.1\r\nHost: t\r\n\r\n`);
    await inApp;
    const closed = handle.close({ timeout: 5_000 });
    // The listener is gone at once: a new connection is refused while the old one is served.
    await expect(
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release();
    const res = await pending;
    expect(res.text).toBe('finished');
    expect(res.headers.connection).toBe('close');
    await closed;
  });

  it('listens on several places at once, a unix socket among them', async () => {
    const socket = join(scratch(), 'app.sock');
    const handle = await start(echo, { listen: [{ host: '127.0.0.1', port: 0 }, { socket }] });
    expect(handle.servers).toHaveLength(2);
    expect(handle.urls[1]).toBe(`http+unix://${encodeURIComponent(socket)}/`);
    expect((await rawRequest(handle.port as number, get('/tcp'))).text).toBe('GET |/tcp||');
    const overSocket = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ socketPath: socket, path: '/unix', headers: { Connection: 'close' } }, (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(overSocket).toBe('GET |/unix||');
  });

  it('rejects with PLANK_ERR_ADDRESS_IN_USE when the port is taken', async () => {
    const first = await start(echo);
    await expect(serve(echo, { host: '127.0.0.1', port: first.port as number })).rejects.toMatchObject({
      code: 'PLANK_ERR_ADDRESS_IN_USE',
    });
  });

  it('rejects bad options before listening, naming the option and the value', async () => {
    const bad: Array<[object, string]> = [
      [{ port: 80, socket: '/tmp/x.sock' }, 'give one of'],
      [{ port: 70000 }, 'option "port" must be an integer from 0 to 65535, got 70000'],
      [{ gracefulTimeout: -1 }, 'option "gracefulTimeout" must be a number of milliseconds >= 0, got -1'],
      [{ listen: [] }, 'option "listen" must be a non-empty array'],
      [{ listen: [{ fd: -2 }] }, 'option "listen" must be a non-empty array of listen specs'],
      [{ fastify: { https: {} } }, 'option "fastify.https" is not supported'],
      [
        { fastify: { keepAliveTimeout: 1000 } },
        'option "fastify.keepAliveTimeout" is not supported: use serve()\'s "keepAliveTimeout", got 1000',
      ],
      [
        { fastify: { connectionTimeout: 1000 } },
        'option "fastify.connectionTimeout" is not supported: use serve()\'s "timeout", got 1000',
      ],
      [
        { fastify: { return503OnClosing: true } },
        'option "fastify.return503OnClosing" is not supported: close() drains as server-node does, got true',
      ],
    ];
    for (const [options, message] of bad) {
      await expect(serve(echo, options)).rejects.toThrow(message);
      await expect(serve(echo, options)).rejects.toMatchObject({ code: 'PLANK_ERR_SERVER_FASTIFY_OPTION' });
    }
    await expect(serve('nope' as never, { port: 0 })).rejects.toMatchObject({ code: 'PLANK_ERR_FASTIFY_APP' });
  });
});

describe('serve: timeouts, as on server-node', () => {
  // headersTimeout/timeout far beyond the test's own limit: only keepAliveTimeout can close it.
  it('closes an idle keep-alive connection once its keepAliveTimeout ends', async () => {
    const { port } = await start(() => [200, ['Content-Type', 'text/plain'], ['ok']], {
      host: '127.0.0.1',
      port: 0,
      keepAliveTimeout: 200,
      headersTimeout: 60_000,
      timeout: 60_000,
    });
    const client = await openSocket(port as number, 'GET / HTTP/1.1\r\nHost: t\r\n\r\n');
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: keep-alive\r\n[^]*\r\n\r\nok$/);
  });

  it('closes a connection whose reader stalls or whose app hangs once nothing moved for `timeout`', async () => {
    let writerGaveUp = false;
    const app: App = (env) => {
      if (env.PATH_INFO === '/hang') return new Promise(() => {});
      return async (respond) => {
        const w = respond([200, []]);
        while (!w.aborted) await w.write(Buffer.alloc(64 * 1024));
        writerGaveUp = true;
      };
    };
    const { port } = await start(app, { host: '127.0.0.1', port: 0, timeout: 300 });
    // A paused client never sees the close (it would have to read to the end first), so
    // the server side is what tells: the writer learns it was aborted.
    const reader = await openSocket(port as number, 'GET /slow HTTP/1.1\r\nHost: t\r\n\r\n');
    reader.socket.pause();
    const hung = await openSocket(port as number, 'GET /hang HTTP/1.1\r\nHost: t\r\n\r\n');
    await hung.closed;
    expect(hung.received()).toBe('');
    await until(() => writerGaveUp, 'the stalled response to be cut');
    reader.socket.destroy();
  });

  it('leaves connections still sending their request to headersTimeout, not to `timeout`', async () => {
    const { port } = await start(
      (env) =>
        env.PATH_INFO === '/hang' ? new Promise(() => {}) : [200, ['Content-Type', 'text/plain'], [env.PATH_INFO]],
      {
        host: '127.0.0.1',
        port: 0,
        timeout: 200,
        headersTimeout: 60_000,
      },
    );
    // Both connections are older than the hung one below, so a `timeout` that applied to
    // them would have closed them before it.
    const silent = await openSocket(port as number, '');
    const halfway = await openSocket(port as number, 'GET /halfway HTTP/1.1\r\nHost: t\r\n');
    const hung = await openSocket(port as number, 'GET /hang HTTP/1.1\r\nHost: t\r\n\r\n');
    await hung.closed;
    halfway.socket.write('Connection: close\r\n\r\n');
    silent.socket.write(get('/silent'));
    await Promise.all([halfway.closed, silent.closed]);
    expect(halfway.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/halfway$/);
    expect(silent.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\/silent$/);
  });
});
