// HTTP parsing and server-level checks under attack (SECURITY.md, issue #13 item 7): what a
// remote client can send before the app sees anything. Each case goes over a real socket,
// byte for byte, and is bounded by a short timeout.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '@plank/core';
import { type ClientErrorReport, onClientError, type ServerHandle, serve } from '@plank/server-node';
import { until } from '@plank/test';

type Exchange = { text: string; closed: boolean };

let handle: ServerHandle;
let port = 0;
let calls = 0;
let lastEnv: Record<string, unknown> = {};
const logged: string[] = [];
const reports: ClientErrorReport[] = [];
let stopReports: () => void = () => {};
const LIMIT = 64 * 1024;

const app: App = async (env) => {
  calls++;
  lastEnv = { ...env };
  if (env.PATH_INFO === '/read') {
    let n = 0;
    try {
      for await (const chunk of env['psgi.input']) n += (chunk as Buffer).length;
    } catch (err) {
      lastEnv.readError = (err as { code?: string }).code;
      throw err;
    }
    return [200, ['Content-Type', 'text/plain'], [`read ${n}`]];
  }
  return [200, ['Content-Type', 'text/plain'], [`host ${env.SERVER_NAME} port ${env.SERVER_PORT}`]];
};

beforeAll(async () => {
  stopReports = onClientError((r) => reports.push(r));
  handle = await serve(app, {
    host: '127.0.0.1',
    port: 0,
    bodyLimit: LIMIT,
    headersTimeout: 1000,
    errors: { write: (s: string) => logged.push(s) > 0 },
  });
  port = handle.port as number;
});
afterAll(async () => {
  stopReports();
  await handle?.close({ timeout: 500 });
});

/**
 * Sends `parts` (each after the server answered nothing for `gap` ms, or at once) and
 * collects what comes back until the server closes or `wait` ms pass.
 */
function exchange(parts: Array<string | Buffer>, wait = 1500, gap = 0): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const socket = connect(port, '127.0.0.1', async () => {
      for (const part of parts) {
        if (socket.destroyed) break;
        socket.write(part);
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      }
    });
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(done, wait);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      done();
    });
  });
}

const statusOf = (e: Exchange): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(e.text)?.[1] ?? 0);

describe('Host (RFC 9112 §3.2, §7.2)', () => {
  it('answers 400 to a request with two Host headers, without calling the app', async () => {
    const before = calls;
    const e = await exchange(['GET / HTTP/1.1\r\nHost: a.com\r\nHost: evil.com\r\n\r\n']);
    expect(statusOf(e)).toBe(400);
    expect(e.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(e.closed).toBe(true);
    expect(calls).toBe(before);
  });

  it('answers 400 to two Host headers spelled in different cases', async () => {
    const e = await exchange(['GET / HTTP/1.1\r\nhost: a.com\r\nHOST: evil.com\r\n\r\n']);
    expect(statusOf(e)).toBe(400);
  });

  it.each([
    ['a space', 'a b.com'],
    ['a slash', 'a.com/x'],
    ['a port above 65535', 'a.com:99999'],
    ['a port that is not a number', 'a.com:http'],
    ['an unclosed IPv6 literal', '[::1'],
    ['an at sign', 'user@a.com'],
  ])('answers 400 to a Host with %s', async (_what, host) => {
    const before = calls;
    const e = await exchange([`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`]);
    expect(statusOf(e)).toBe(400);
    expect(calls).toBe(before);
  });

  it('answers 400 to an absolute-form target whose port is above 65535', async () => {
    const e = await exchange(['GET http://a.com:99999/ HTTP/1.1\r\nHost: a.com\r\n\r\n']);
    expect(statusOf(e)).toBe(400);
  });

  it.each([
    ['a.com', 'host a.com port 80'],
    ['a.com:8080', 'host a.com port 8080'],
    ['[::1]:81', 'host [::1] port 81'],
    ['127.0.0.1', 'host 127.0.0.1 port 80'],
  ])('serves a valid Host %s', async (host, body) => {
    const e = await exchange([`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]);
    expect(statusOf(e)).toBe(200);
    expect(e.text.endsWith(body)).toBe(true);
  });

  it('still answers 400 to an HTTP/1.1 request without Host (node)', async () => {
    const e = await exchange(['GET / HTTP/1.1\r\n\r\n']);
    expect(statusOf(e)).toBe(400);
  });
});

describe('CONNECT', () => {
  it('gets a 501 response instead of a silent close', async () => {
    const e = await exchange(['CONNECT a.com:443 HTTP/1.1\r\nHost: a.com:443\r\n\r\n']);
    expect(statusOf(e)).toBe(501);
    expect(e.closed).toBe(true);
    await until(() => reports.some((r) => r.status === 501 && r.method === 'CONNECT'), 'the 501 report');
  });
});

describe('request body limit', () => {
  it('answers 413 with Connection: close to a Content-Length over the limit, before the body is sent', async () => {
    const before = calls;
    const e = await exchange([`POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`]);
    expect(statusOf(e)).toBe(413);
    expect(e.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(e.closed).toBe(true);
    expect(calls).toBe(before);
  });

  it('answers 413 instead of 100 Continue when the announced body is over the limit', async () => {
    const e = await exchange([
      `PUT /read HTTP/1.1\r\nHost: a\r\nContent-Length: ${LIMIT * 10}\r\nExpect: 100-continue\r\n\r\n`,
    ]);
    expect(statusOf(e)).toBe(413);
    expect(e.text).not.toContain('100 Continue');
  });

  it('still sends 100 Continue and reads a body within the limit', async () => {
    const e = await exchange(
      [
        `PUT /read HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
        'hello',
      ],
      1500,
      200,
    );
    expect(e.text.startsWith('HTTP/1.1 100 Continue')).toBe(true);
    expect(e.text.endsWith('read 5')).toBe(true);
  });

  it('answers 413 and closes when a chunked body grows past the limit, and the app reading it gets an error', async () => {
    const reported = reports.length;
    const chunk = `${(16 * 1024).toString(16)}\r\n${'x'.repeat(16 * 1024)}\r\n`;
    const e = await exchange(
      ['POST /read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array(12).fill(chunk)],
      2000,
      20,
    );
    expect(statusOf(e)).toBe(413);
    expect(e.closed).toBe(true);
    await until(() => lastEnv.readError === 'PLANK_ERR_BODY_LIMIT', 'the app to see the error');
    // Reported once, as the 413 it was.
    expect(reports.slice(reported).map((r) => r.status)).toEqual([413]);
  });

  it('reads a chunked body within the limit', async () => {
    const e = await exchange([
      'POST /read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ]);
    expect(statusOf(e)).toBe(200);
    expect(e.text.endsWith('read 5')).toBe(true);
  });

  it('closes the connection instead of reading an unread chunked body past the limit', async () => {
    const chunk = `${(16 * 1024).toString(16)}\r\n${'x'.repeat(16 * 1024)}\r\n`;
    const e = await exchange(
      ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', ...Array(12).fill(chunk)],
      2000,
      20,
    );
    expect(statusOf(e)).toBe(200);
    expect(e.closed).toBe(true);
  });
});

describe('malformed requests node refuses, now logged and reported', () => {
  it.each([
    ['a malformed request line', 'GET/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['an invalid method', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    [
      'Content-Length with Transfer-Encoding (smuggling)',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    [
      'two different Content-Lengths',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
      400,
    ],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nbroken\r\n\r\n', 400],
    ['100 KB of headers', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`, 431],
  ])('%s gets %s, a report and no app call', async (_what, request, status) => {
    const before = calls;
    const reported = reports.length;
    const e = await exchange([request]);
    expect(statusOf(e)).toBe(status);
    expect(calls).toBe(before);
    await until(() => reports.slice(reported).some((r) => r.status === status), `the ${status} report`);
  });

  it('closes a slowloris connection that never finishes its headers with 408, and reports it', async () => {
    const reported = reports.length;
    const e = await exchange(
      ['GET / HTTP/1.1\r\n', 'Host: a\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n'],
      6000,
      700,
    );
    expect(statusOf(e)).toBe(408);
    expect(e.closed).toBe(true);
    expect(reports.slice(reported).some((r) => r.status === 408)).toBe(true);
  });

  it('logs a flood of bad requests as one line a second for each status, counting the rest', async () => {
    const start = logged.length;
    await Promise.all(Array.from({ length: 20 }, () => exchange(['BAD\r\n\r\n'], 1000)));
    const lines = logged.slice(start).filter((l) => l.includes(' 400 '));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0]).toMatch(/^plank: answered 400 Bad Request to 127\.0\.0\.1:\d+: HPE_/);
    await new Promise((r) => setTimeout(r, 1100));
    await exchange(['BAD\r\n\r\n'], 1000);
    expect(logged.at(-1)).toMatch(/more 400 not logged since the last line\n$/);
  });
});
