import { join } from 'node:path';
import { builder, lint, type App, type Env, type PlankError } from '@plank/core';
import { accessLog } from '@plank/middleware-access-log';
import { testApp, until } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { REQUEST_ID, requestId, type RequestIdOptions } from './index.js';

const echo: App = (env) => [200, ['Content-Type', 'text/plain'], [`${env[REQUEST_ID]} ${env.HTTP_X_REQUEST_ID}`]];
const wrap = (options?: RequestIdOptions, app: App = echo): App => lint(requestId(options)(lint(app)));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('RequestId', () => {
  it('generates a new UUID per request, in env, in the request header key and in the response', async () => {
    await testApp(wrap(), async (request) => {
      const a = await request('/');
      const b = await request('/');
      const id = a.headers['x-request-id'] as string;
      expect(id).toMatch(UUID);
      expect(a.text).toBe(`${id} ${id}`);
      expect(b.headers['x-request-id']).not.toBe(id);
    });
  });

  it('replaces an id sent by a peer it does not trust, so a client cannot choose what is logged', async () => {
    await testApp(wrap(), async (request) => {
      const res = await request('/', { headers: { 'X-Request-Id': 'chosen-by-client' } });
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.text).not.toContain('chosen-by-client');
    });
  });

  it('keeps the id from a trusted peer when it is a safe token, and replaces an unsafe one', async () => {
    const trusted = (env: Env) => env.REMOTE_ADDR === '10.0.0.2';
    await testApp(wrap({ trusted }), async (request) => {
      const fromProxy = await request('/', { headers: { 'X-Request-Id': 'edge-42:abc' }, remoteAddr: '10.0.0.2' });
      expect(fromProxy.headers['x-request-id']).toBe('edge-42:abc');
      expect(fromProxy.text).toBe('edge-42:abc edge-42:abc');
      const fromClient = await request('/', { headers: { 'X-Request-Id': 'edge-42:abc' }, remoteAddr: '203.0.113.9' });
      expect(fromClient.headers['x-request-id']).toMatch(UUID);
      for (const unsafe of ['a b', 'x'.repeat(201), 'line\tbreak', '"quoted"']) {
        const res = await request('/', { headers: { 'X-Request-Id': unsafe }, remoteAddr: '10.0.0.2' });
        expect(res.headers['x-request-id'], unsafe).toMatch(UUID);
      }
    });
  });

  it('is logged by AccessLog %{X-Request-Id}i as the final id, whether the log is enabled before or after it', async () => {
    for (const order of ['log outside', 'log inside'] as const) {
      const lines: string[] = [];
      const log = accessLog({ format: '%{X-Request-Id}i %{X-Request-Id}o', logger: (line) => lines.push(line) });
      const app = builder(({ enable }) => {
        if (order === 'log outside') enable(log);
        enable(requestId());
        if (order === 'log inside') enable(log);
        return echo;
      });
      await testApp(lint(app), async (request) => {
        const res = await request('/', { headers: { 'X-Request-Id': 'forged' } });
        const id = res.headers['x-request-id'] as string;
        await until(() => lines.length === 1, 'the access log line');
        // AccessLog formats the line when the response is over, after RequestId replaced the
        // forged value in env and added the response header, wherever the log sits.
        expect(lines[0], order).toBe(`${id} ${id}\n`);
        expect(id).toMatch(UUID);
      });
    }
  });

  it('uses the header name, generator and response choice given, and keeps an app-set response header', async () => {
    let n = 0;
    const options: RequestIdOptions = { header: 'X-Correlation-Id', generate: () => `req-${++n}`, trusted: true };
    await testApp(wrap(options), async (request) => {
      const res = await request('/');
      expect(res.headers['x-correlation-id']).toBe('req-1');
      expect(res.headers['x-request-id']).toBeUndefined();
      expect((await request('/', { headers: { 'X-Correlation-Id': 'up-7' } })).headers['x-correlation-id']).toBe(
        'up-7',
      );
    });
    await testApp(wrap({ responseHeader: false }), async (request) => {
      expect((await request('/')).headers['x-request-id']).toBeUndefined();
    });
    const own: App = () => [200, ['Content-Type', 'text/plain', 'X-Request-Id', 'app-own'], ['x']];
    await testApp(wrap({}, own), async (request) => {
      expect((await request('/')).headers['x-request-id']).toBe('app-own');
    });
  });

  it('rejects bad options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ header: 'X Request' }, /option "header" must be a header name .*got "X Request"/],
      [{ trusted: ['10.0.0.0/8'] }, /option "trusted" must be a boolean .* or a function, got \["10.0.0.0\/8"\]/],
      [{ generate: 'uuid' }, /option "generate" must be a function/],
      [{ heder: 'X' }, /unknown option "heder" \(did you mean "header"\?/],
    ];
    for (const [options, message] of bad) {
      try {
        requestId(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_REQUEST_ID_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its name in enable()', async () => {
    const app = builder(
      ({ enable }) => {
        enable('RequestId', { header: 'X-Trace' });
        return echo;
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    await testApp(lint(app), async (request) => {
      expect((await request('/')).headers['x-trace']).toMatch(UUID);
    });
  });
});
