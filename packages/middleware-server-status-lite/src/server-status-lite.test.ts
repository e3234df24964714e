import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bodyChunks, builder, lint, type App, type Env, type Response, type StreamingResponse } from '@plank/core';
import { reverseProxy } from '@plank/middleware-reverse-proxy';
import { testApp, testEnv } from '@plank/test';
import { plankMiddleware, serverStatusLite, type ServerStatusLiteOptions } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-status-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

/** An env as a server without `plank.finish` builds it (HTTP/1.0, from 192.0.2.9). */
function withoutFinish(path: string): Env {
  const env = testEnv(path, { remoteAddr: '192.0.2.9' });
  delete env['plank.finish'];
  env.SERVER_PROTOCOL = 'HTTP/1.0';
  return env;
}

const hello: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], ['Hello']];

function stack(options: Partial<ServerStatusLiteOptions>, app: App = hello): App {
  return lint(
    serverStatusLite({
      path: '/server-status',
      allow: ['127.0.0.1', '::1'],
      scoreboard: join(dir, 'sb'),
      counterFile: join(dir, 'counter'),
      ...options,
    })(lint(app)),
  );
}

/** The worker lines of a text page, as field lists. */
const rows = (text: string): string[][] =>
  text
    .split('--\n')[1]!
    .split('\n')
    .slice(1, -1)
    .map((l) => l.split(' '));

describe('serverStatusLite()', () => {
  it('shows its own worker busy with the status request, then idle with the last request, counting every request', async () => {
    await testApp(stack({}), async (request) => {
      for (let i = 0; i < 3; i++)
        expect((await request('/hello?a=1', { headers: { Host: 'example.test' } })).text).toBe('Hello');
      const first = await request('/server-status');
      expect(first.status).toBe(200);
      expect(first.headers['content-type']).toBe('text/plain');
      expect(first.text).toMatch(
        /^ServerUptime: \d+ seconds\nUptime: \d+\nTotal Accesses: 3\nTotal kBytes: 0\nBusyWorkers: 1\nIdleWorkers: 0\n--\npid status remote_addr host method uri protocol ss\n/,
      );
      const me = rows(first.text).find((r) => r[0] === String(process.pid));
      expect([me?.[1], me?.[2], me?.[4], me?.[5], me?.[6]]).toEqual([
        'A',
        '127.0.0.1',
        'GET',
        '/server-status',
        'HTTP/1.1',
      ]);
      expect(me?.[7]).toMatch(/^[01]$/);
      const second = await request('/server-status?json');
      // The status request counts too, once its response is out (Perl counts it too).
      expect(JSON.parse(second.text)).toMatchObject({ TotalAccesses: '4', BusyWorkers: '1', IdleWorkers: '0' });
    });
  });

  it('keeps a worker busy while any of its requests is in flight, showing the oldest one still running', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: App = (env) =>
      env.PATH_INFO === '/slow'
        ? ((async (respond) => {
            const w = respond([200, ['Content-Type', 'text/plain']]);
            await w.write('start ');
            await gate;
            await w.write('end');
            await w.close();
          }) satisfies StreamingResponse)
        : hello(env);
    await testApp(stack({}, slow), async (request) => {
      const slowDone = request('/slow');
      await new Promise((r) => setTimeout(r, 50));
      await request('/fast');
      const page = await request('/server-status?json');
      const me = JSON.parse(page.text).stats.find((s: { pid: number }) => s.pid === process.pid);
      expect(me).toMatchObject({ status: 'A', uri: '/slow' });
      release();
      expect((await slowDone).text).toBe('start end');
      const after = JSON.parse((await request('/server-status?json')).text);
      // slow + fast + the two status pages; the body bytes of each are counted once it is out.
      expect(after.TotalAccesses).toBe('3');
    });
  });

  it('answers 403 to every address outside allow, and to everyone without allow (with a warning at start-up)', async () => {
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const closed = stack({ allow: undefined });
    expect(warn.mock.calls.map((c) => String(c[0]))).toContain(
      "[ServerStatus::Lite] 'allow' is not set: every request to /server-status gets 403\n",
    );
    warn.mockRestore();
    await testApp(closed, async (request) => {
      const res = await request('/server-status');
      expect([res.status, res.text]).toEqual([403, 'Forbidden']);
    });
    await testApp(
      stack({ allow: ['10.0.0.0/8', 'fd00::/8'] }),
      async (request) => {
        expect((await request('/server-status', { remoteAddr: '10.1.2.3' })).status).toBe(200);
        expect((await request('/server-status', { remoteAddr: '::ffff:10.9.9.9' })).status).toBe(200);
        expect((await request('/server-status', { remoteAddr: 'fd12::1' })).status).toBe(200);
        expect((await request('/server-status', { remoteAddr: '11.0.0.1' })).status).toBe(403);
        expect((await request('/server-status', { remoteAddr: 'fe80::1' })).status).toBe(403);
        expect((await request('/server-status', { remoteAddr: '' })).status).toBe(403);
      },
      { mode: 'inprocess' },
    );
  });

  it('checks the client address that ReverseProxy put in REMOTE_ADDR when ReverseProxy comes first', async () => {
    const app = builder(({ enable }) => {
      enable(reverseProxy({ trusted: ['loopback'] }));
      enable(serverStatusLite({ path: '/server-status', allow: '192.0.2.0/24', scoreboard: join(dir, 'sb') }));
      return hello;
    });
    await testApp(app, async (request) => {
      expect((await request('/server-status')).status).toBe(403);
      expect((await request('/server-status', { headers: { 'X-Forwarded-For': '192.0.2.7' } })).status).toBe(200);
      expect((await request('/server-status', { headers: { 'X-Forwarded-For': '198.51.100.1' } })).status).toBe(403);
    });
  });

  it('answers every refused request with its own 403, also on a server without plank.finish', async () => {
    const app = serverStatusLite({ path: '/s', allow: '127.0.0.1', scoreboard: join(dir, 'sb') })(hello);
    // Without plank.finish the middleware wraps the response in a body filter of its own.
    for (let i = 0; i < 2; i++) {
      const res = (await app(withoutFinish('/s'))) as Response;
      let body = '';
      for await (const chunk of bodyChunks(res[2])) body += chunk;
      expect([res[0], body]).toEqual([403, 'Forbidden']);
    }
  });

  it('on a server without plank.finish, counts the body as it is read and goes idle at its end', async () => {
    const app = stack({});
    const env = withoutFinish('/x');
    const res = (await serverStatusLite({
      path: '/s',
      allow: '127.0.0.1',
      scoreboard: join(dir, 'sb'),
      counterFile: join(dir, 'counter'),
    })(hello)(env)) as Response;
    // Counting the body leaves the response as the app made it.
    expect(res[1]).toEqual(['Content-Type', 'text/plain', 'Content-Length', '5']);
    let body = '';
    for await (const chunk of bodyChunks(res[2])) body += chunk;
    expect(body).toBe('Hello');
    await testApp(app, async (request) => {
      const doc = JSON.parse((await request('/server-status?json')).text);
      expect(doc.TotalAccesses).toBe('1');
      expect(doc.stats.find((s: { pid: number }) => s.pid === process.pid)).toMatchObject({
        status: 'A',
        uri: '/server-status?json',
      });
      const text = (await request('/server-status')).text;
      expect(text).toMatch(/\nTotal Accesses: 2\nTotal kBytes: 0\n/);
    });
  });

  it("keeps the app's Content-Length over a socket on a server without plank.finish", async () => {
    const app = stack({});
    const noFinish: App = (env) => {
      delete env['plank.finish'];
      return app(env);
    };
    await testApp(
      noFinish,
      async (request) => {
        const res = await request('/x');
        expect([res.headers['content-length'], res.headers['transfer-encoding'], res.text]).toEqual([
          '5',
          undefined,
          'Hello',
        ]);
      },
      { mode: 'server' },
    );
  });

  it('on a server without plank.finish, counts an app that throws or rejects as finished', async () => {
    const failing = stack({}, (env) => {
      if (env.PATH_INFO === '/throw') throw new Error('thrown');
      return Promise.reject(new Error('rejected'));
    });
    for (const path of ['/throw', '/reject']) {
      const env = withoutFinish(path);
      await expect(Promise.resolve().then(() => failing(env))).rejects.toThrow(/thrown|rejected/);
    }
    await testApp(stack({}), async (request) => {
      const doc = JSON.parse((await request('/server-status?json')).text);
      expect(doc.TotalAccesses).toBe('2');
      // Nothing older is still in flight: the oldest request shown is this one.
      expect(doc.stats.find((s: { pid: number }) => s.pid === process.pid)).toMatchObject({
        status: 'A',
        uri: '/server-status?json',
      });
    });
  });

  it('matches path exactly and leaves other paths to the app', async () => {
    await testApp(stack({}), async (request) => {
      expect((await request('/server-status/')).text).toBe('Hello');
      expect((await request('/server-statusx')).text).toBe('Hello');
    });
  });

  it('serves JSON, Prometheus and HTML by query or Accept', async () => {
    await testApp(stack({}), async (request) => {
      expect((await request('/server-status?json')).headers['content-type']).toBe('application/json; charset=utf-8');
      expect((await request('/server-status?format=prometheus')).text).toContain(
        '# TYPE plank_http_requests_total counter',
      );
      const html = await request('/server-status', { headers: { Accept: 'text/html' } });
      expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(html.text).toContain('<meta http-equiv="refresh" content="5">');
      expect((await request('/server-status?format=html&refresh=30')).text).toContain('content="30"');
    });
  });

  it('without a scoreboard, shows the uptime and the Perl warning', async () => {
    await testApp(lint(serverStatusLite({ path: '/s', allow: '127.0.0.1' })(hello)), async (request) => {
      expect((await request('/s')).text).toMatch(
        /^ServerUptime: .*\nUptime: \d+\nWARN: Scoreboard has been disabled\n$/,
      );
    });
  });

  it('is found by name as ServerStatus::Lite', () => {
    expect(plankMiddleware['ServerStatus::Lite']).toBe(serverStatusLite);
  });

  it.each([
    [{ path: 'status' }, /option "path" must be a path starting with "\/", got "status"/],
    [{ allow: ['127.0.0.1'] }, /option "path" is required \(the status page's PATH_INFO\), got undefined/],
    [{ path: '/s', allow: ['127.1'] }, /option "allow" must list IP addresses .*got "127.1"/],
    [{ path: '/s', allow: ['0177.0.0.1'] }, /got "0177.0.0.1"/],
    [{ path: '/s', allow: ['10.0.0.0/33'] }, /got "10.0.0.0\/33"/],
    [{ path: '/s', allow: [] }, /got \[\]/],
    [{ path: '/s', allow: [5] }, /option "allow" must be a string or an array; each item must be a string, got \[5\]/],
    [
      { path: '/s', allow: ['::ffff:10.0.0.0/8'] },
      /option "allow" is an IPv4-mapped range with a prefix below 96, .*write 10\.0\.0\.0\/8 if that is what you mean, got "::ffff:10\.0\.0\.0\/8"/,
    ],
    [{ path: '/s', counterFile: '/tmp/c' }, /needs the scoreboard option/],
    [{ path: '/s', scoreboard: '' }, /option "scoreboard" must be a non-empty path without NUL characters, got ""/],
    [{ path: '/s', refresh: 0 }, /option "refresh" must be an integer from 1 to 86400, got 0/],
    [{ path: '/s', groupWritable: 'maybe' }, /option "groupWritable" must be a boolean/],
    [{ path: '/s', alow: [] }, /unknown option "alow" \(did you mean "allow"\?; known options: path, allow, /],
    ['/s', /options must be an object, got "\/s"/],
  ])('refuses %j with PLANK_ERR_SERVER_STATUS_LITE_OPTION', (options, message) => {
    expect(() => serverStatusLite(options as never)).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_SERVER_STATUS_LITE_OPTION', message: expect.stringMatching(message) }),
    );
  });
});
