import type { ServerContext } from '@plank/core';
import { rawRequest } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { adapterOptions } from './adapter.js';
import { plankServer } from './index.js';

function context(overrides: Partial<ServerContext> = {}): ServerContext {
  return {
    app: (env) => [200, ['Content-Type', 'text/plain'], [`hi ${env.PATH_INFO}`]],
    source: undefined,
    listen: [{ host: '127.0.0.1', port: 0 }],
    options: {},
    log: () => {},
    errors: process.stderr,
    ...overrides,
  };
}

describe('plankServer (plankup -s fastify)', () => {
  it('turns command-line timeouts in seconds into milliseconds and --enable-logger into a fastify logger', () => {
    expect(
      adapterOptions({
        'keepalive-timeout': '2',
        'graceful-timeout': '0.5',
        timeout: '0',
        'headers-timeout': '10',
        'request-timeout': '30',
      }),
    ).toEqual({
      keepAliveTimeout: 2000,
      gracefulTimeout: 500,
      timeout: 0,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
    });
    expect(adapterOptions({ logger: true })).toEqual({ fastify: { logger: true } });
  });

  it('rejects unknown options and bad values with PLANK_ERR_SERVER_FASTIFY_OPTION, naming both', () => {
    const cases: Array<[Record<string, string | boolean>, string]> = [
      [{ 'max-workers': '4' }, 'unknown option --max-workers (known options: logger, keepalive-timeout, '],
      [{ 'keepalive-timeout': 'soon' }, 'option --keepalive-timeout must be a number of seconds >= 0, got "soon"'],
      [{ 'graceful-timeout': '' }, 'option --graceful-timeout must be a number of seconds'],
      [{ timeout: true }, 'option --timeout must be a number of seconds'],
      [{ 'body-limit': '1.5' }, 'option --body-limit must be an integer >= 0, got "1.5"'],
      [{ logger: 'yes' }, 'option --logger must be a boolean'],
    ];
    for (const [options, message] of cases) {
      expect(() => plankServer.validate?.(context({ options }))).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_SERVER_FASTIFY_OPTION', message: expect.stringContaining(message) }),
      );
    }
    expect(() => plankServer.validate?.(context({ listen: [{ port: 99999 }] }))).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_SERVER_FASTIFY_OPTION' }),
    );
  });

  it('serves the loaded app, reports where it listens and settles closed with 0 after close', async () => {
    const running = await plankServer.run(context({ options: { 'graceful-timeout': '1' } }));
    expect(running.urls).toHaveLength(1);
    const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(running.urls[0] as string)?.[1]);
    const res = await rawRequest(port, 'GET /there HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
    expect(res.text).toBe('hi /there');
    await running.close();
    await expect(running.closed).resolves.toBe(0);
  });

  it('refuses to run without an app loaded in this process', async () => {
    await expect(plankServer.run(context({ app: undefined }))).rejects.toMatchObject({ code: 'PLANK_ERR_FASTIFY_APP' });
  });
});
