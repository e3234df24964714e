import type { App, PlankError } from '@plank/core';
import { testApp, type TestMode } from '@plank/test';
import { describe, expect, it } from 'vitest';

// Answers with what the app saw, so one client can compare both modes.
const echo: App = async (env) => {
  const parts: Buffer[] = [];
  for await (const c of env['psgi.input']) parts.push(c as Buffer);
  const seen = {
    method: env.REQUEST_METHOD,
    remote: env.REMOTE_ADDR,
    foo: env.HTTP_X_FOO,
    body: Buffer.concat(parts).toString('utf8'),
  };
  return [200, ['Content-Type', 'application/json'], [JSON.stringify(seen)]];
};

const modes: TestMode[] = ['inprocess', 'server'];

async function rejection(promise: Promise<unknown>): Promise<PlankError> {
  try {
    await promise;
  } catch (err) {
    return err as PlankError;
  }
  throw new Error('the request did not fail');
}

describe.each(modes)('request options in %s mode', (mode) => {
  it('sends method, repeated headers, body and a loopback remoteAddr the same way', async () => {
    await testApp(
      echo,
      async (request) => {
        const res = await request('/', {
          method: 'PUT',
          headers: { 'X-Foo': ['1', '2'] },
          body: 'payload',
          remoteAddr: '127.0.0.2',
        });
        expect(JSON.parse(res.text)).toEqual({ method: 'PUT', remote: '127.0.0.2', foo: '1, 2', body: 'payload' });
        expect(JSON.parse((await request('/')).text).remote).toBe('127.0.0.1');
      },
      { mode },
    );
  });

  it('rejects an unknown option, suggesting the one meant', async () => {
    await testApp(
      echo,
      async (request) => {
        const err = await rejection(request('/', { remoteaddr: '127.0.0.2' } as never));
        expect(err.code).toBe('PLANK_ERR_TEST_OPTION');
        expect(err.message).toBe(
          'request("/", init): unknown option "remoteaddr" (did you mean "remoteAddr"?; known options: method, headers, body, remoteAddr)',
        );
      },
      { mode },
    );
  });

  it('rejects a method, header or body a client cannot send', async () => {
    await testApp(
      echo,
      async (request) => {
        const cases: Array<[object, RegExp]> = [
          [{ method: 'GET /x' }, /option "method" must be an HTTP method/],
          [{ headers: { 'X-Bad': 'a\r\nInjected: 1' } }, /option "headers" has a header a client cannot send, "X-Bad"/],
          [{ headers: { 'Bad Name': 'a' } }, /option "headers" has a header a client cannot send, "Bad Name"/],
          [{ headers: ['X-Odd'] }, /option "headers" must be an object of header names/],
          [{ body: 42 }, /option "body" must be a string or a Uint8Array, got 42/],
        ];
        for (const [init, message] of cases) {
          const err = await rejection(request('/', init));
          expect(err.code).toBe('PLANK_ERR_TEST_OPTION');
          expect(err.message).toMatch(message);
        }
      },
      { mode },
    );
  });
});

describe('remoteAddr', () => {
  it('is REMOTE_ADDR as given in-process, whatever the address', async () => {
    await testApp(
      echo,
      async (request) => {
        for (const addr of ['10.1.2.3', '::1', 'fd12::1']) {
          expect(JSON.parse((await request('/', { remoteAddr: addr })).text).remote).toBe(addr);
        }
      },
      { mode: 'inprocess' },
    );
  });

  it('fails loudly over a socket when it is not a loopback IPv4 address, instead of being ignored', async () => {
    await testApp(
      echo,
      async (request) => {
        for (const addr of ['10.1.2.3', '::1', '127.0.0.256', '::ffff:127.0.0.2']) {
          const err = await rejection(request('/', { remoteAddr: addr }));
          expect(err.code).toBe('PLANK_ERR_TEST_OPTION');
          expect(err.message).toContain(
            `option "remoteAddr" cannot be "${addr}" over a socket (PLANK_TEST_IMPL=Server)`,
          );
          expect(err.message).toContain('run the test in-process');
        }
      },
      { mode: 'server' },
    );
  });
});
