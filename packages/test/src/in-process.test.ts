import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { onFinish } from '@plank/core';
import type { App, Env, FinishInfo } from '@plank/core';
import { testApp } from '@plank/test';

const inprocess = { mode: 'inprocess' } as const;
const sink = { write: (): boolean => true };

describe('testApp in-process', () => {
  it('builds the env like the server does, from path, headers and body', async () => {
    let seen: Env | undefined;
    const app: App = async (env) => {
      seen = env;
      const parts: Buffer[] = [];
      for await (const c of env['psgi.input']) parts.push(c as Buffer);
      return [200, ['Content-Type', 'text/plain'], [Buffer.concat(parts)]];
    };
    await testApp(
      app,
      async (request) => {
        const res = await request('/a%20b?x=1', {
          method: 'POST',
          body: 'payload',
          headers: { 'X-Foo': ['1', '2'], 'Content-Type': 'text/plain' },
          remoteAddr: '10.1.2.3',
        });
        expect(res.text).toBe('payload');
      },
      inprocess,
    );
    expect(seen).toMatchObject({
      REQUEST_METHOD: 'POST',
      PATH_INFO: '/a b',
      QUERY_STRING: 'x=1',
      REQUEST_URI: '/a%20b?x=1',
      HTTP_X_FOO: '1, 2',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '7',
      REMOTE_ADDR: '10.1.2.3',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
    });
  });

  it('reads arrays, iterables, async iterables, Readables, web streams and file bodies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plank-test-'));
    try {
      const file = join(dir, 'f.txt');
      await writeFile(file, '0123456789');
      const bodies: Record<string, () => unknown> = {
        '/array': () => ['a', Buffer.from('b')],
        '/iter': () => new Set(['a', 'b']),
        '/async': () =>
          (async function* () {
            yield 'a';
            yield 'b';
          })(),
        '/readable': () => Readable.from(['a', 'b']),
        '/web': () =>
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('ab'));
              c.close();
            },
          }),
        '/file': () => ({ path: file, start: 2, end: 4 }),
      };
      const app: App = (env) => [200, [], bodies[env.PATH_INFO]!() as never];
      await testApp(
        app,
        async (request) => {
          for (const path of Object.keys(bodies))
            expect((await request(path)).text, path).toBe(path === '/file' ? '234' : 'ab');
        },
        inprocess,
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('collects a streaming response written through the Writer and runs finish and cleanup handlers after it', async () => {
    const infos: FinishInfo[] = [];
    let cleaned = 0;
    const app: App = (env) => {
      onFinish(env, (info) => infos.push(info));
      env['psgix.cleanup.handlers']!.push(() => cleaned++);
      return async (respond) => {
        const w = respond([200, ['Content-Type', 'text/plain']]);
        await w.write('Hello, ');
        await w.write(new TextEncoder().encode('wörld'));
        await w.close();
      };
    };
    await testApp(
      app,
      async (request) => {
        const res = await request('/');
        expect(res.text).toBe('Hello, wörld');
        expect(res.headers['content-type']).toBe('text/plain');
      },
      inprocess,
    );
    expect(infos).toEqual([{ status: 200, bodyBytes: 13, headerBytes: 0, aborted: false }]);
    expect(cleaned).toBe(1);
  });

  it('answers 500 and writes the stack to psgi.errors when the app throws or rejects', async () => {
    const logged: string[] = [];
    const errors = { write: (s: string) => logged.push(s) };
    await testApp(
      (env) => {
        if (env.PATH_INFO === '/sync') throw new Error('boom');
        return Promise.reject(new Error('later'));
      },
      async (request) => {
        expect((await request('/sync')).status).toBe(500);
        expect((await request('/async')).status).toBe(500);
      },
      { ...inprocess, errors },
    );
    expect(logged.join('')).toMatch(/Error: boom[\s\S]*Error: later/);
  });

  it('answers 500 to an invalid header instead of passing it on', async () => {
    await testApp(
      () => [200, ['Bad Name', 'x'], ['hi']],
      async (request) => {
        expect((await request('/')).status).toBe(500);
      },
      { ...inprocess, errors: sink },
    );
  });

  it('drops the body for HEAD, 204 and 304 without reading a stream body', async () => {
    const bodies: Readable[] = [];
    const app: App = (env) => {
      const body = new Readable({
        read() {
          this.push('x');
          this.push(null);
        },
      });
      bodies.push(body);
      return [env.PATH_INFO === '/304' ? 304 : 200, [], body];
    };
    await testApp(
      app,
      async (request) => {
        expect((await request('/', { method: 'HEAD' })).body.length).toBe(0);
        expect((await request('/304')).body.length).toBe(0);
      },
      inprocess,
    );
    expect(bodies.map((b) => b.destroyed)).toEqual([true, true]);
  });

  it('rejects when a streaming app fails after sending the headers', async () => {
    await testApp(
      () => async (respond) => {
        respond([200, []]);
        throw new Error('mid-body');
      },
      async (request) => {
        await expect(request('/')).rejects.toThrow(/connection drop/);
      },
      inprocess,
    );
  });
});

describe('testApp in both modes', () => {
  for (const mode of ['inprocess', 'server'] as const) {
    it(`releases a Readable, a generator and a web stream that HEAD or a 304 does not send, without reading them (${mode})`, async () => {
      let reads = 0;
      const released: Array<() => boolean> = [];
      const bodies: Record<string, () => unknown> = {
        readable: () => {
          const body = new Readable({
            read() {
              reads++;
              this.push(null);
            },
          });
          released.push(() => body.destroyed);
          return body;
        },
        generator: () => {
          const body = (function* unread() {
            reads++;
            yield 'x';
          })();
          // A generator that was returned before it started is done without running.
          released.push(() => body.next().done === true);
          return body;
        },
        web: () => {
          let cancelled = false;
          released.push(() => cancelled);
          return new ReadableStream(
            {
              pull() {
                reads++;
              },
              cancel() {
                cancelled = true;
              },
            },
            { highWaterMark: 0 },
          );
        },
      };
      const app: App = (env) => [env.REQUEST_METHOD === 'HEAD' ? 200 : 304, [], bodies[env.QUERY_STRING]!() as never];
      await testApp(
        app,
        async (request) => {
          for (const kind of Object.keys(bodies)) {
            expect((await request(`/?${kind}`, { method: 'HEAD' })).body.length, kind).toBe(0);
            expect((await request(`/?${kind}`)).status, kind).toBe(304);
          }
        },
        { mode, errors: sink },
      );
      expect(released.map((isReleased) => isReleased())).toEqual([true, true, true, true, true, true]);
      expect(reads).toBe(0);
    });
  }
});
