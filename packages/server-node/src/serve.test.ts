import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, IncomingMessage, request as httpRequest } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onFinish } from '@plank/core';
import type { App, FinishInfo } from '@plank/core';
import { serve } from '@plank/server-node';
import type { ServeOptions, ServerHandle } from '@plank/server-node';
import { rawRequest, until } from '@plank/test';

const distIndex = new URL('../dist/index.js', import.meta.url).pathname;

function collector(): { write(s: string): boolean; text(): string } {
  const lines: string[] = [];
  return { write: (s: string) => lines.push(s) > 0, text: () => lines.join('') };
}

async function withServer(
  app: App,
  options: ServeOptions,
  fn: (h: ServerHandle & { port: number }) => Promise<void>,
): Promise<void> {
  const handle = await serve(app, { host: '127.0.0.1', port: 0, ...options });
  try {
    await fn(handle as ServerHandle & { port: number });
  } finally {
    await handle.close({ timeout: 500 });
  }
}

function openSocket(port: number, request: string): Promise<import('node:net').Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(request);
      resolve(s);
    });
    s.on('error', reject);
  });
}

let dir = '';
let bigFile = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-server-node-'));
  bigFile = join(dir, 'big.bin');
  await writeFile(bigFile, Buffer.alloc(8 * 1024 * 1024, 97));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('streaming responses', () => {
  it('write() waits for the client to drain, so a stalled reader stalls the writer', async () => {
    const total = 48 * 1024 * 1024;
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 120);
    const app: App = () => async (respond) => {
      const w = respond([200, ['Content-Type', 'application/octet-stream']]);
      while (written < total && !w.aborted) {
        written += chunk.length;
        await w.write(chunk);
      }
      await w.close();
    };
    await withServer(app, {}, async ({ port }) => {
      const socket = await openSocket(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      socket.pause();
      let last = -1;
      let stable = 0;
      // Wait until the writer stops advancing: it must be parked on backpressure.
      await until(() => {
        stable = written === last ? stable + 1 : 0;
        last = written;
        return stable >= 5;
      }, 'the writer to stop');
      expect(written).toBeLessThan(total);
      let received = 0;
      socket.on('data', (c: Buffer) => {
        received += c.length;
      });
      socket.resume();
      await new Promise((r) => socket.once('close', r));
      expect(written).toBe(total);
      expect(received).toBeGreaterThan(total);
    });
  });

  it('a client that goes away marks the writer aborted, drops further writes and reports aborted to finish handlers', async () => {
    const infos: FinishInfo[] = [];
    let loopEnded = false;
    const app: App = (env) => {
      onFinish(env, (info) => infos.push(info));
      return async (respond) => {
        const w = respond([200, ['Content-Type', 'text/plain']]);
        while (!w.aborted) await w.write('x'.repeat(16 * 1024));
        await w.write('dropped');
        await w.close();
        loopEnded = true;
      };
    };
    await withServer(app, {}, async ({ port }) => {
      const socket = await openSocket(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => socket.once('data', r));
      socket.destroy();
      await until(() => loopEnded && infos.length === 1, 'the app to notice the abort');
      expect(infos[0]).toMatchObject({ status: 200, aborted: true });
    });
  });

  it('reports status, body bytes and header bytes once per request to plank.finish handlers', async () => {
    const infos: FinishInfo[] = [];
    const app: App = (env) => {
      onFinish(env, (info) => infos.push(info));
      return async (respond) => {
        const w = respond([202, ['Content-Type', 'text/plain']]);
        await w.write('héllo');
        await w.write(new Uint8Array(3));
        await w.close();
      };
    };
    await withServer(app, {}, async ({ port }) => {
      const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(res.body.length).toBe(9);
      await until(() => infos.length === 1, 'the finish handler');
      const head = `HTTP/1.1 202 Accepted\r\n${res.rawHeaders.map((v, i) => (i % 2 ? `${v}\r\n` : `${v}: `)).join('')}\r\n`;
      expect(infos[0]).toEqual({ status: 202, bodyBytes: 9, headerBytes: head.length, aborted: false });
    });
  });
});

describe('finish info', () => {
  it('counts the body bytes of file, Readable and generator bodies for finish handlers', async () => {
    const infos: Record<string, FinishInfo> = {};
    const app: App = (env) => {
      onFinish(env, (info) => {
        infos[env.PATH_INFO] = info;
      });
      if (env.PATH_INFO === '/file') return [200, [], { path: bigFile, start: 10, end: 1033 }];
      if (env.PATH_INFO === '/gen')
        return [
          200,
          [],
          (function* () {
            yield 'ü';
            yield new Uint8Array(5);
          })(),
        ];
      return [200, [], Readable.from([Buffer.alloc(300), 'ä'])];
    };
    await withServer(app, {}, async ({ port }) => {
      for (const path of ['/file', '/gen', '/readable'])
        await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      await until(() => Object.keys(infos).length === 3, 'three finish reports');
      expect(infos['/file']?.bodyBytes).toBe(1024);
      expect(infos['/gen']?.bodyBytes).toBe(7);
      expect(infos['/readable']?.bodyBytes).toBe(302);
    });
  });
});

describe('file bodies', () => {
  it('closes the descriptor of a file download the client abandons', async () => {
    const fdDir = '/proc/self/fd';
    if (!existsSync(fdDir)) return expect(process.platform).not.toBe('linux');
    let finished = 0;
    const app: App = (env) => {
      onFinish(env, () => finished++);
      return [200, ['Content-Type', 'application/octet-stream'], { path: bigFile }];
    };
    await withServer(app, {}, async ({ port }) => {
      const before = readdirSync(fdDir).length;
      for (let i = 0; i < 10; i++) {
        const socket = await openSocket(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        await new Promise((r) => socket.once('data', r));
        socket.destroy();
      }
      await until(() => finished === 10, 'every download to finish');
      await until(() => readdirSync(fdDir).length <= before + 2, 'descriptors to be released');
    });
  });

  it('sends whole files and spans that cross read boundaries byte for byte to slow readers, many at once', async () => {
    // Random bytes never repeat per read, so a read buffer handed to the wrong response,
    // or reused before the socket let go of it, shows up as wrong bytes.
    // The clients wait before reading, so the kernel's buffers (4 MiB to send) fill and writes queue.
    const content = randomBytes(8 * 1024 * 1024 + 1);
    const file = join(dir, 'patterned.bin');
    await writeFile(file, content);
    const spans: Record<string, [number, number | undefined]> = {
      '/whole': [0, undefined],
      '/tail': [262_143, undefined],
      '/span': [100, 2_600_000],
      '/small': [5, 9],
    };
    const app: App = (env) => {
      const [start, end] = spans[env.PATH_INFO] ?? [0, 0];
      return [
        200,
        ['Content-Type', 'application/octet-stream'],
        end === undefined ? { path: file, start } : { path: file, start, end },
      ];
    };
    const fetchSlowly = async (port: number, path: string): Promise<Buffer> => {
      // HTTP/1.0: the body is the bytes up to the close, with no chunked framing.
      const socket = await openSocket(port, `GET ${path} HTTP/1.0\r\n\r\n`);
      socket.pause();
      await new Promise((r) => setTimeout(r, 300));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.resume();
      await new Promise((r) => socket.once('close', r));
      const raw = Buffer.concat(chunks);
      return raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    };
    await withServer(app, {}, async ({ port }) => {
      const paths = Object.keys(spans);
      const all = await Promise.all(
        Array.from({ length: 8 }, (_, i) => paths[i % paths.length] as string).map(async (path) => ({
          path,
          body: await fetchSlowly(port, path),
        })),
      );
      for (const { path, body } of all) {
        const [start, end] = spans[path] as [number, number | undefined];
        expect(body.equals(content.subarray(start, end === undefined ? undefined : end + 1)), path).toBe(true);
      }
    });
  });

  it.each([
    ['a missing file streamed whole', { path: 'missing.txt' }, 'ENOENT'],
    ['a missing file span read at once', { path: 'missing.txt', start: 0, end: 9 }, 'ENOENT'],
    [
      'a span past the end of a file that shrank',
      { path: 'short.txt', start: 0, end: 9 },
      'expected 10 bytes at 0, read 5',
    ],
  ])('drops the connection and logs for %s once headers are out', async (_what, file, logged) => {
    await writeFile(join(dir, 'short.txt'), '12345');
    const errors = collector();
    const app: App = () => [
      200,
      ['Content-Type', 'text/plain', 'Content-Length', '10'],
      { ...file, path: join(dir, file.path) },
    ];
    await withServer(app, { errors }, async ({ port }) => {
      await expect(rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).rejects.toThrow(/before a complete response/);
      await until(() => errors.text().includes(logged), 'the error to be logged');
    });
  });

  it('answers HEAD without opening the file', async () => {
    const errors = collector();
    const app: App = () => [
      200,
      ['Content-Type', 'text/plain', 'Content-Length', '10'],
      { path: join(dir, 'missing.txt') },
    ];
    await withServer(app, { errors }, async ({ port }) => {
      const res = await rawRequest(port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('10');
      expect(errors.text()).toBe('');
    });
  });
});

describe('errors', () => {
  it('writes the stack of a throwing app to psgi.errors and answers 500', async () => {
    const errors = collector();
    await withServer(
      () => {
        throw new Error('kaboom');
      },
      { errors },
      async ({ port }) => {
        const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(res.status).toBe(500);
        expect(res.text).toBe('Internal Server Error');
        expect(errors.text()).toMatch(/Error: kaboom\n\s+at /);
      },
    );
  });

  it('answers 500 to responses that are not responses, and keeps serving', async () => {
    const errors = collector();
    const bad: Record<string, unknown> = {
      '/object': {},
      '/null': null,
      '/headers': [200, 'Content-Type: text/plain', ['x']],
      '/status': ['200', [], ['x']],
      '/odd': [200, ['Content-Type'], ['x']],
      '/body': [200, [], 'a string'],
    };
    await withServer(
      (env) => (env.PATH_INFO === '/ok' ? [200, [], ['ok']] : (bad[env.PATH_INFO] as never)),
      { errors },
      async ({ port }) => {
        for (const path of Object.keys(bad)) {
          const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
          expect(res.status, path).toBe(500);
        }
        expect((await rawRequest(port, 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).text).toBe('ok');
      },
    );
  });

  it('drops the connection when a body chunk is not a string or bytes', async () => {
    const errors = collector();
    await withServer(
      () => [200, ['Content-Type', 'text/plain', 'Content-Length', '99'], [42 as never]],
      { errors },
      async ({ port }) => {
        await expect(rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).rejects.toThrow();
        expect(errors.text()).toMatch(/TypeError/);
      },
    );
  });

  it('hands the app the socket as psgix.io and the request stream itself as psgi.input', async () => {
    let ok = false;
    await withServer(
      (env) => {
        ok =
          env['psgi.input'] instanceof IncomingMessage &&
          env['psgix.io'] === (env['psgi.input'] as IncomingMessage).socket;
        return [200, [], ['']];
      },
      {},
      async ({ port }) => {
        await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(ok).toBe(true);
      },
    );
  });
});

describe('close()', () => {
  it('stops accepting, finishes in-flight requests with Connection: close, then resolves', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started = false;
    const app: App = async () => {
      started = true;
      await gate;
      return [200, ['Content-Type', 'text/plain'], ['finished']];
    };
    const handle = await serve(app, { host: '127.0.0.1', port: 0 });
    const port = handle.port as number;
    const pending = rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => started, 'the request to reach the app');
    let closed = false;
    const closing = handle.close().then(() => {
      closed = true;
    });
    await expect(rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).rejects.toThrow(/ECONNREFUSED/);
    expect(closed).toBe(false);
    release();
    const res = await pending;
    expect(res.text).toBe('finished');
    expect(res.headers.connection).toBe('close');
    await closing;
  });

  it('answers a request that arrives on an idle keep-alive connection after close() began, with Connection: close', async () => {
    const handle = await serve(() => [200, [], ['ok']], { host: '127.0.0.1', port: 0 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (): Promise<IncomingMessage> =>
      new Promise((resolve, reject) => {
        httpRequest({ port: handle.port, host: '127.0.0.1', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        })
          .on('error', reject)
          .end();
      });
    try {
      const first = await get();
      expect(first.headers.connection).toBe('keep-alive');
      const closing = handle.close();
      // The agent reuses its idle socket: closing it under the client would reset this request.
      const second = await get();
      expect(second.statusCode).toBe(200);
      expect(second.headers.connection).toBe('close');
      await closing;
    } finally {
      agent.destroy();
    }
  });

  it('closes idle keep-alive connections once their keep-alive timeout ends', async () => {
    const handle = await serve(() => [200, [], ['ok']], { host: '127.0.0.1', port: 0, keepAliveTimeout: 300 });
    const agent = new Agent({ keepAlive: true });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        httpRequest({ port: handle.port, host: '127.0.0.1', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
          .on('error', reject)
          .end();
      });
      expect(status).toBe(200);
      let sockets = 0;
      handle.server.getConnections((_e, n) => {
        sockets = n;
      });
      await until(() => sockets === 1, 'the connection count');
      await handle.close();
      await new Promise<void>((r) =>
        handle.server.getConnections((_e, n) => {
          sockets = n;
          r();
        }),
      );
      expect(sockets).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  it('cuts requests that outlive the timeout', async () => {
    const handle = await serve(() => new Promise(() => {}), { host: '127.0.0.1', port: 0 });
    const pending = rawRequest(handle.port as number, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    await handle.close({ timeout: 100 });
    await expect(pending).rejects.toThrow();
  });
});

describe('listening', () => {
  it('rejects bad options by name, with the value', async () => {
    await expect(serve(() => [200, [], []], { port: -1 })).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_NODE_OPTION',
      message: expect.stringContaining('"port"'),
    });
    await expect(serve(() => [200, [], []], { port: 0, socket: '/tmp/x.sock' })).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_NODE_OPTION',
    });
    await expect(serve(() => [200, [], []], { keepAliveTimeout: Number.NaN })).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_NODE_OPTION',
      message: expect.stringContaining('keepAliveTimeout'),
    });
    await expect(serve('nope' as never, { port: 0 })).rejects.toMatchObject({ code: 'PLANK_ERR_SERVE_APP' });
    await expect(serve(() => [200, [], []], { bodyLimit: -1 })).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_NODE_OPTION',
      message: 'serve(): option "bodyLimit" must be an integer >= 0, got -1',
    });
    await expect(serve(() => [200, [], []], { headerTimeout: 5 } as never)).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_NODE_OPTION',
      message: expect.stringContaining('unknown option "headerTimeout" (did you mean "headersTimeout"?'),
    });
    await expect(serve(() => [200, [], []], { listen: [{ port: 0 }, { socket: '' }] })).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_NODE_OPTION',
      message: expect.stringContaining('"listen"'),
    });
  });

  it('listens on every address of a list, one server each, and closes them all', async () => {
    const handle = await serve(() => [200, ['Content-Type', 'text/plain'], ['both']], {
      listen: [
        { host: '127.0.0.1', port: 0 },
        { host: '127.0.0.1', port: 0 },
      ],
    });
    expect(handle.servers).toHaveLength(2);
    expect(handle.urls[0]).toBe(handle.url);
    for (const url of handle.urls) expect(await (await fetch(url)).text()).toBe('both');
    await handle.close({ timeout: 500 });
    expect(handle.servers.every((s) => !s.listening)).toBe(true);
  });

  it('says the address is in use', async () => {
    await withServer(
      () => [200, [], []],
      {},
      async ({ port }) => {
        await expect(serve(() => [200, [], []], { host: '127.0.0.1', port })).rejects.toMatchObject({
          code: 'PLANK_ERR_ADDRESS_IN_USE',
        });
      },
    );
  });

  it('closes a connection that is too slow to send its headers', async () => {
    await withServer(
      () => [200, [], []],
      { headersTimeout: 300 },
      async ({ port }) => {
        const socket = await openSocket(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
        socket.resume();
        await new Promise((r) => socket.once('close', r));
      },
    );
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
    await withServer(app, { timeout: 300 }, async ({ port }) => {
      // A paused client never sees the close (it would have to read to the end first), so
      // the server side is what tells: the writer learns it was aborted.
      const reader = await openSocket(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
      reader.pause();
      const hung = await openSocket(port, 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
      hung.resume();
      await new Promise((r) => hung.once('close', r));
      await until(() => writerGaveUp, 'the stalled response to be cut');
      reader.destroy();
    });
  });

  it('listens on a unix socket, replacing a stale socket file but never a live one or a regular file', async () => {
    const path = join(dir, 'plank.sock');
    // A stale socket file: its process died without removing it.
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(path)).toBe(true);

    const handle = await serve((env) => [200, [], [`${env.SERVER_NAME}:${env.SERVER_PORT}:${env.REMOTE_ADDR}`]], {
      socket: path,
    });
    try {
      expect(handle.port).toBeUndefined();
      const body = await new Promise<string>((resolve, reject) => {
        httpRequest({ socketPath: path, path: '/', headers: { Host: 'h' } }, (res) => {
          let s = '';
          res.on('data', (c: Buffer) => {
            s += c.toString();
          });
          res.on('end', () => resolve(s));
        })
          .on('error', reject)
          .end();
      });
      expect(body).toBe('h:80:');
      await expect(serve(() => [200, [], []], { socket: path })).rejects.toMatchObject({
        code: 'PLANK_ERR_ADDRESS_IN_USE',
      });
    } finally {
      await handle.close();
    }
    const file = join(dir, 'regular');
    await writeFile(file, 'keep me');
    await expect(serve(() => [200, [], []], { socket: file })).rejects.toMatchObject({ code: 'PLANK_ERR_LISTEN' });
    expect(existsSync(file)).toBe(true);
  });

  it('listens on an inherited descriptor', async () => {
    const listener = createNetServer();
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as { port: number }).port;
    const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
    const code = `import { serve } from ${JSON.stringify(distIndex)}; await serve(() => [200, [], ['from child']], { fd: 3 }); console.log('ready');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit', fd],
    });
    try {
      await new Promise((r) => child.stdout!.once('data', r));
      listener.close();
      const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(res.text).toBe('from child');
    } finally {
      child.kill();
      listener.close();
    }
  });
});

describe('plankup -s node', () => {
  it('reads its pass-through options once: seconds into ms, --body-limit in bytes, bad ones named as written', async () => {
    const { serverArgs } = await import('@plank/server-node');
    expect(
      serverArgs('server node', 'PLANK_ERR_SERVER_NODE_OPTION', { 'keepalive-timeout': '2.5', 'body-limit': '1024' })
        .options,
    ).toEqual({ keepAliveTimeout: 2500, bodyLimit: 1024 });
    expect(() => serverArgs('server node', 'PLANK_ERR_SERVER_NODE_OPTION', { 'keepalive-timeout': 'soon' })).toThrow(
      'server node: option --keepalive-timeout must be a number of seconds >= 0, got "soon"',
    );
    expect(() => serverArgs('server node', 'PLANK_ERR_SERVER_NODE_OPTION', { frobnicate: '1' })).toThrow(
      /^server node: unknown option --frobnicate \(known options: /,
    );
  });
});

describe('backlog', () => {
  it.runIf(existsSync('/usr/bin/ss') || existsSync('/bin/ss'))(
    'sets the listen queue the kernel keeps for the socket',
    async () => {
      const handle = await serve(() => [200, [], ['ok']], { host: '127.0.0.1', port: 0, backlog: 23 });
      try {
        // ss shows a listening socket's backlog in its Send-Q column.
        const line = execFileSync('ss', ['-Hltn', `sport = :${handle.port}`], { encoding: 'utf8' }).trim();
        expect(Number(line.split(/\s+/)[2])).toBe(23);
      } finally {
        await handle.close();
      }
    },
  );
});
