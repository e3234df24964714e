import { builder, lint } from '@plank/core';
import { listen, rawRequest, until } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { accessLog } from './index.js';

// Requests the server answers itself never reach the app, so a middleware sees them only
// through the servers' client-error reports (core's CLIENT_ERROR_CHANNEL).
describe('AccessLog and requests the server answered itself', () => {
  it('logs a request with two Host headers, answered 400 by the server, as Apache would', async () => {
    const lines: string[] = [];
    const log = accessLog({ format: '%h "%r" %>s %b', logger: (l) => lines.push(l) });
    const app = builder(({ enable }) => {
      enable(log);
      return lint(() => [200, ['Content-Type', 'text/plain'], ['app']]);
    });
    const server = await listen(app, { errors: { write: () => true } });
    try {
      const res = await rawRequest(
        server.port as number,
        'GET /twice?q=1 HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n',
      );
      expect(res.status).toBe(400);
      await until(() => lines.length === 1 || undefined, 'one access log line');
      expect(lines[0]).toBe('127.0.0.1 "GET /twice?q=1 -" 400 -\n');
    } finally {
      await log.close();
      await server.close({ timeout: 100 });
    }
  });

  it('leaves them out with clientErrors: false, and stops listening when closed', async () => {
    const quiet: string[] = [];
    const closed: string[] = [];
    const off = accessLog({ format: '%>s', logger: (l) => quiet.push(l), clientErrors: false });
    const gone = accessLog({ format: '%>s', logger: (l) => closed.push(l) });
    await gone.close();
    const server = await listen(
      builder(({ enable }) => {
        enable(off);
        return () => [200, [], ['app']];
      }),
      { errors: { write: () => true } },
    );
    try {
      await rawRequest(server.port as number, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect([quiet, closed]).toEqual([[], []]);
    } finally {
      await server.close({ timeout: 100 });
    }
  });
});
