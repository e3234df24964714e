import { Readable } from 'node:stream';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { bodyToBuffer, head, lint, watchFinish } from './index.js';
import type { App, Env, FinishInfo, Response, StreamingResponse } from './index.js';
import { fakeEnv } from './fake-env.fixture.js';

const hello: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], ['Hello']];
const streamed: App = () => async (respond) => {
  const w = respond([201, ['Content-Type', 'text/plain', 'Content-Length', '5']]);
  await w.write('Hel');
  await w.write(Buffer.from('lo'));
  await w.close();
};

/** Wraps `app` in watchFinish, recording what the handler is told. */
function watched(app: App): { app: App; seen: FinishInfo[] } {
  const seen: FinishInfo[] = [];
  return { seen, app: (env) => watchFinish(env, app, (info) => void seen.push(info)) };
}

/** Takes `plank.finish` away, as a server that does not offer it would. */
const withoutFinish =
  (app: App): App =>
  (env: Env) => {
    delete env['plank.finish'];
    return app(env);
  };

describe('watchFinish', () => {
  it('on a Plank server, leaves the response alone and is told the finish by the server', async () => {
    const response = hello(fakeEnv()) as Response;
    const env = fakeEnv({ 'plank.finish': [] });
    const seen: FinishInfo[] = [];
    expect(
      watchFinish(
        env,
        () => response,
        (info) => void seen.push(info),
      ),
    ).toBe(response);
    expect(env['plank.finish']).toHaveLength(1);
    expect(seen).toEqual([]);

    const w = watched(hello);
    await testApp(
      lint(w.app),
      async (request) => {
        expect((await request('/')).text).toBe('Hello');
      },
      { mode: 'server' },
    );
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]).toMatchObject({ status: 200, bodyBytes: 5, aborted: false });
    expect(w.seen[0]!.headerBytes).toBeGreaterThan(0);
  });

  it('without plank.finish, reports status and bytes once the body has been sent, and keeps Content-Length', async () => {
    for (const app of [hello, streamed]) {
      const w = watched(app);
      await testApp(
        withoutFinish(lint(w.app)),
        async (request) => {
          const res = await request('/');
          expect([res.headers['content-length'], res.headers['transfer-encoding'], res.text]).toEqual([
            '5',
            undefined,
            'Hello',
          ]);
        },
        { mode: 'server' },
      );
      expect(w.seen).toEqual([{ status: app === hello ? 200 : 201, bodyBytes: 5, headerBytes: 0, aborted: false }]);
    }
  });

  it('without plank.finish, waits for a promised response and reports when its body is read', async () => {
    const w = watched(async () => hello(fakeEnv()));
    const res = await w.app(fakeEnv());
    expect(w.seen).toEqual([]);
    expect((await bodyToBuffer((res as Response)[2])).toString()).toBe('Hello');
    expect(w.seen).toEqual([{ status: 200, bodyBytes: 5, headerBytes: 0, aborted: false }]);
  });

  it('without plank.finish, reports a body that Head drops unread as finished with 0 bytes, and releases it', async () => {
    const stream = Readable.from(['Hello']);
    const w = watched(() => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], stream]);
    const res = (await head()(w.app)(fakeEnv({ REQUEST_METHOD: 'HEAD' }))) as Response;
    expect(res[1]).toEqual(['Content-Type', 'text/plain', 'Content-Length', '5']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.destroyed).toBe(true);
    expect(w.seen).toEqual([{ status: 200, bodyBytes: 0, headerBytes: 0, aborted: false }]);
  });

  it('without plank.finish, reports an app that throws or rejects as a 500 and passes the error on', async () => {
    const thrown = new Error('thrown');
    const w1 = watched(() => {
      throw thrown;
    });
    expect(() => w1.app(fakeEnv())).toThrow(thrown);
    expect(w1.seen).toEqual([{ status: 500, bodyBytes: 0, headerBytes: 0, aborted: false }]);

    const rejected = new Error('rejected');
    const w2 = watched(() => Promise.reject(rejected));
    await expect(w2.app(fakeEnv())).rejects.toBe(rejected);
    expect(w2.seen).toEqual([{ status: 500, bodyBytes: 0, headerBytes: 0, aborted: false }]);
  });

  it('without plank.finish, reports a promise of something that is no response as a 500', async () => {
    const w = watched(() => Promise.resolve(undefined as unknown as Response));
    await expect(w.app(fakeEnv())).rejects.toThrow(TypeError);
    expect(w.seen).toEqual([{ status: 500, bodyBytes: 0, headerBytes: 0, aborted: false }]);
  });

  it('without plank.finish, reports a handler that throws on psgi.errors and still sends the whole body', async () => {
    const errors: string[] = [];
    const app: App = (env) =>
      watchFinish(env, streamed, () => {
        throw new Error('handler broke');
      });
    const out: string[] = [];
    const result = (await app(
      fakeEnv({ 'psgi.errors': { write: (s: string) => errors.push(s) } }),
    )) as StreamingResponse;
    await result(() => ({
      aborted: false,
      write: async (c) => void out.push(String(c)),
      close: async () => void out.push('<closed>'),
    }));
    expect(out).toEqual(['Hel', 'lo', '<closed>']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^plank\.finish handler failed: Error: handler broke\n/);
  });
});
