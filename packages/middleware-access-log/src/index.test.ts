import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { builder, type App, type Env, type Middleware } from '@plank/core';
import { listen, testApp, until } from '@plank/test';
import { accessLog, plankMiddleware, type AccessLogOptions } from './index.js';

// enable() by name resolves the package from here, as an app's builder would.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));

const ok: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '2'], ['OK']];

function capture(options: AccessLogOptions = {}): { lines: string[]; mw: Middleware } {
  const lines: string[] = [];
  return { lines, mw: accessLog({ ...options, logger: (l) => lines.push(l) }) };
}

const tmp = mkdtempSync(join(tmpdir(), 'plank-al-mw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('accessLog: Plack access_log.t expectations', () => {
  it('prints pid, request and response headers, port, strftime time and server name', async () => {
    const { lines, mw } = capture({ format: '%P %{Host}i %p %{X-Forwarded-For}i %{Content-Type}o %{%m %y}t %v' });
    await testApp(mw(ok), async (request) => {
      await request('/', { headers: { Host: 'example.com', 'X-Forwarded-For': '192.0.2.1' } });
    });
    const now = new Date();
    const my = `${String(now.getMonth() + 1).padStart(2, '0')} ${String(now.getFullYear() % 100).padStart(2, '0')}`;
    expect(lines).toEqual([`${process.pid} example.com 80 192.0.2.1 text/plain [${my}] example.com\n`]);
  });

  it('prints %D as real microseconds instead of Plack\'s "-"', async () => {
    const { lines, mw } = capture({ format: '%D' });
    await testApp(mw(ok), async (request) => {
      await request('/');
    });
    expect(lines[0]).toMatch(/^\d+\n$/);
  });

  it('rebuilds %r from %m %U%q %H, with and without a query', async () => {
    const { lines, mw } = capture({ format: '%r == %m %U%q %H' });
    await testApp(mw(ok), async (request) => {
      await request('/');
      await request('/foo?bar=baz');
    });
    for (const l of lines) {
      const [r, rs] = l.trimEnd().split(' == ');
      expect(r).toBe(rs);
    }
    expect(lines[1]).toBe('GET /foo?bar=baz HTTP/1.1 == GET /foo?bar=baz HTTP/1.1\n');
  });

  it('runs char and block handlers', async () => {
    const { lines, mw } = capture({
      format: '%m %z %{HTTP_X_RAND_R}Z',
      charHandlers: { z: (env) => env.HTTP_X_FORWARDED_FOR },
      blockHandlers: { Z: (block, env) => env[block as `HTTP_${string}`] || '-' },
    });
    await testApp(mw(ok), async (request) => {
      await request('/foo?bar=baz', { headers: { 'X-Forwarded-For': 'herp derp', 'X-Rand-R': 'station' } });
    });
    expect(lines).toEqual(['GET herp derp station\n']);
  });

  it('prints request and response Content-Type and Content-Length', async () => {
    const { lines, mw } = capture({
      format: 'cti=%{Content-Type}i cli=%{Content-Length}i cto=%{Content-Type}o clo=%{Content-Length}o',
    });
    await testApp(mw(ok), async (request) => {
      await request('/foo', {
        method: 'POST',
        body: 'bar=baz',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    });
    expect(lines).toEqual(['cti=application/x-www-form-urlencoded cli=7 cto=text/plain clo=2\n']);
  });

  it('logs a header worth "0" as 0 and a missing one as - (access_log_value_zero.t)', async () => {
    const { lines, mw } = capture({ format: '%{zero}i %{undef}i' });
    await testApp(mw(ok), async (request) => {
      await request('/', { headers: { Zero: '0' } });
    });
    expect(lines).toEqual(['0 -\n']);
  });

  it('logs GET and POST in the default combined format (access_log_timed.t)', async () => {
    const { lines, mw } = capture();
    await testApp(mw(ok), async (request) => {
      await request('/');
      await request('/foo', { method: 'POST', body: 'foo=bar' });
    });
    expect(lines[0]).toMatch(/^127\.0\.0\.1 - - \[.*?\] "GET \/ HTTP\/1\.1" 200 2 "-" "-"\n$/);
    expect(lines[1]).toMatch(/^127\.0\.0\.1 - - \[.*?\] "POST \/foo HTTP\/1\.1" 200 2 "-" "-"\n$/);
  });

  it('is found under the names AccessLog and AccessLog::Timed', async () => {
    expect(plankMiddleware.AccessLog).toBe(accessLog);
    expect(plankMiddleware['AccessLog::Timed']).toBe(accessLog);
    const lines: string[] = [];
    for (const name of ['AccessLog', 'AccessLog::Timed']) {
      const app = builder(
        ({ enable }) => {
          enable(name, { format: '%U %s', logger: (line: string) => lines.push(line) });
          return ok;
        },
        { resolveFrom: pkgDir },
      );
      await testApp(app, async (request) => void (await request('/by-name')));
    }
    expect(lines).toEqual(['/by-name 200\n', '/by-name 200\n']);
  });
});

describe('accessLog: timing to the last byte over a socket', () => {
  it('writes the line only after a streaming body is closed, with %D covering the whole body', async () => {
    const { lines, mw } = capture({ format: '%s %b %D' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = 0;
    const app: App = () => async (respond) => {
      entered = performance.now();
      const w = respond([200, ['Content-Type', 'text/plain']]);
      await w.write('hello ');
      await gate;
      await w.write('world');
      await w.close();
    };
    const handle = await listen(mw(app));
    try {
      const res = fetch(handle.url).then((r) => r.text());
      await until(() => entered > 0, 'the app to start');
      await new Promise((r) => setTimeout(r, 40));
      expect(lines).toEqual([]);
      const held = performance.now() - entered;
      release();
      expect(await res).toBe('hello world');
      await until(() => lines.length === 1, 'the log line');
      const [status, bytes, us] = (lines[0] as string).trim().split(' ');
      expect([status, bytes]).toEqual(['200', '11']);
      expect(Number(us)).toBeGreaterThanOrEqual(Math.floor(held * 1000));
    } finally {
      await handle.close({ timeout: 1000 });
    }
  });

  it('counts the bytes of a file body sent by the server', async () => {
    const path = join(tmp, 'file.bin');
    writeFileSync(path, Buffer.alloc(70_000, 97));
    const { lines, mw } = capture({ format: '%>s %b %B %f' });
    const handle = await listen(mw(() => [200, ['Content-Type', 'application/octet-stream'], { path }]));
    try {
      expect((await (await fetch(handle.url)).arrayBuffer()).byteLength).toBe(70_000);
      await until(() => lines.length === 1, 'the log line');
      expect(lines[0]).toBe(`200 70000 70000 ${path}\n`);
    } finally {
      await handle.close({ timeout: 1000 });
    }
  });

  it('still logs a request whose client went away mid-body, with %X = X', async () => {
    const { lines, mw } = capture({ format: '%s %X %B' });
    const app: App = () => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain']]);
      for (let i = 0; i < 1000 && !w.aborted; i++) await w.write(Buffer.alloc(65_536, 120));
      await w.close();
    };
    const handle = await listen(mw(app));
    try {
      await new Promise<void>((resolve, reject) => {
        const sock = connect(handle.port as number, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
        sock.once('data', () => {
          sock.destroy();
          resolve();
        });
        sock.on('error', reject);
      });
      await until(() => lines.length === 1, 'the log line');
      expect(lines[0]).toMatch(/^200 X \d+\n$/);
    } finally {
      await handle.close({ timeout: 1000 });
    }
  });

  it('logs the 500 the server sent for an app that threw', async () => {
    const { lines, mw } = capture({ format: '%>s "%r"' });
    const handle = await listen(
      mw(() => {
        throw new Error('boom');
      }),
      { errors: { write: () => true } },
    );
    try {
      expect((await fetch(`${handle.url}x`)).status).toBe(500);
      await until(() => lines.length === 1, 'the log line');
      expect(lines[0]).toBe('500 "GET /x HTTP/1.1"\n');
    } finally {
      await handle.close({ timeout: 1000 });
    }
  });
});

describe('accessLog: without a server that reports the finish', () => {
  const noFinish =
    (inner: App): App =>
    (env: Env) => {
      delete env['plank.finish'];
      return inner(env);
    };

  it('logs when the body has been read, counting its bytes', async () => {
    const { lines, mw } = capture({ format: '%s %b' });
    const app = noFinish(
      mw(() => async (respond) => {
        const w = respond([201, ['Content-Type', 'text/plain']]);
        await w.write('abc');
        await w.write(Buffer.from('de'));
        await w.close();
      }),
    );
    await testApp(
      app,
      async (request) => {
        expect((await request('/')).text).toBe('abcde');
      },
      { mode: 'inprocess' },
    );
    expect(lines).toEqual(['201 5\n']);
  });

  it("keeps the app's Content-Length, plain or streaming, while it counts the body", async () => {
    const streamed: App = () => async (respond) => {
      const w = respond([200, ['Content-Type', 'text/plain', 'Content-Length', '2']]);
      await w.write('OK');
      await w.close();
    };
    for (const inner of [ok, streamed]) {
      const { lines, mw } = capture({ format: '%s %b' });
      await testApp(
        noFinish(mw(inner)),
        async (request) => {
          const res = await request('/');
          expect([res.headers['content-length'], res.headers['transfer-encoding'], res.text]).toEqual([
            '2',
            undefined,
            'OK',
          ]);
        },
        { mode: 'server' },
      );
      expect(lines).toEqual(['200 2\n']);
    }
  });

  it('logs a 500 for an app that throws, and rethrows', async () => {
    const { lines, mw } = capture({ format: '%s %b' });
    const app = noFinish(mw(() => Promise.reject(new Error('nope'))));
    await testApp(
      app,
      async (request) => {
        expect((await request('/')).status).toBe(500);
      },
      { mode: 'inprocess', errors: { write: () => true } },
    );
    expect(lines).toEqual(['500 -\n']);
  });

  it('writes to psgi.errors when no output is given', async () => {
    const seen: string[] = [];
    await testApp(
      accessLog({ format: '%m %U' })(ok),
      async (request) => {
        await request('/here');
      },
      { mode: 'inprocess', errors: { write: (s: string) => seen.push(s) } },
    );
    expect(seen).toEqual(['GET /here\n']);
  });
});

describe('accessLog: stream output', () => {
  it('writes lines that finish in the same turn as one chunk', async () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) });
    const mw = accessLog({ format: '%U', stream });
    const app = mw(ok);
    await testApp(
      app,
      async (request) => {
        await Promise.all([request('/a'), request('/b'), request('/c')]);
      },
      { mode: 'inprocess' },
    );
    await mw.flush();
    expect(chunks.join('').split('\n').sort()).toEqual(['', '/a', '/b', '/c']);
    expect(chunks.length).toBeLessThan(3);
  });

  it('waits for drain and keeps every line in order', async () => {
    const got: string[] = [];
    const stream = new Writable({
      highWaterMark: 1,
      write: (c: Buffer, _e, cb) => {
        got.push(c.toString());
        setTimeout(cb, 2);
      },
    });
    const mw = accessLog({ format: '%U', stream });
    const app = mw(ok);
    await testApp(
      app,
      async (request) => {
        for (let i = 0; i < 30; i++) await request(`/${i}`);
      },
      { mode: 'inprocess' },
    );
    await mw.flush();
    await until(() => !stream.writableNeedDrain && stream.writableLength === 0, 'the stream to drain');
    expect(got.join('')).toBe(Array.from({ length: 30 }, (_, i) => `/${i}\n`).join(''));
    await mw.close();
  });
});

describe('accessLog: options are checked when the factory is called', () => {
  const cases: Array<[string, AccessLogOptions, string, RegExp]> = [
    ['an unknown directive', { format: '%h %J' }, 'PLANK_ERR_ACCESS_LOG_FORMAT', /%J/],
    ['an empty format', { format: '' }, 'PLANK_ERR_ACCESS_LOG_OPTION', /"format"/],
    ['two outputs', { logger: () => {}, stream: process.stdout }, 'PLANK_ERR_ACCESS_LOG_OPTION', /logger and stream/],
    ['rotate without a file', { rotate: 'daily' }, 'PLANK_ERR_ACCESS_LOG_OPTION', /"rotate" needs the "file"/],
    ['a bad rotate', { file: '/tmp/x.%DATE%', rotate: 'weekly' as 'daily' }, 'PLANK_ERR_ACCESS_LOG_OPTION', /"weekly"/],
    ['rotate without %DATE%', { file: '/tmp/x.log', rotate: 'daily' }, 'PLANK_ERR_ACCESS_LOG_OPTION', /%DATE%/],
    ['a bad keep', { file: '/tmp/x.%DATE%', keep: 0 }, 'PLANK_ERR_ACCESS_LOG_OPTION', /"keep".*0/],
    [
      'an unknown option',
      { formta: 'common' } as AccessLogOptions,
      'PLANK_ERR_ACCESS_LOG_OPTION',
      /^AccessLog: unknown option "formta" \(did you mean "format"\?; known options: format, logger, /,
    ],
    [
      'a logger that is not a function',
      { logger: 'x' as unknown as () => void },
      'PLANK_ERR_ACCESS_LOG_OPTION',
      /"logger".*"x"/,
    ],
    [
      'a symlink without %DATE% in the file',
      { file: '/tmp/x.log', symlink: true },
      'PLANK_ERR_ACCESS_LOG_OPTION',
      /"symlink".*%DATE%/,
    ],
    ['a bad char handler', { charHandlers: { zz: () => 1 } }, 'PLANK_ERR_ACCESS_LOG_OPTION', /charHandlers\.zz/],
  ];
  for (const [what, options, code, message] of cases) {
    it(`rejects ${what} with ${code}`, () => {
      expect(() => accessLog(options)).toThrow(
        expect.objectContaining({ code, message: expect.stringMatching(message) }),
      );
    });
  }

  it('takes keep and utc as plankup passes them, as strings', async () => {
    const d = mkdtempSync(join(tmp, 'cli-'));
    const strings = { keep: '3', utc: 'true' } as unknown as AccessLogOptions;
    const log = accessLog({ format: '%{%H}t', file: join(d, 'a.%DATE%.log'), ...strings });
    await testApp(log(ok), async (request) => {
      await request('/');
    });
    await log.close();
    const [name] = readdirSync(d).filter((f) => f.startsWith('a.'));
    expect(name).toBe(`a.${new Date().toISOString().slice(0, 10)}.log`);
    expect(() => accessLog({ file: join(d, 'a.%DATE%.log'), keep: '0' as unknown as number })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ACCESS_LOG_OPTION', message: expect.stringMatching(/"keep".*"0"/) }),
    );
  });

  it('reports the failing option through enable() by name too', () => {
    expect(() => builder(({ enable }) => enable('AccessLog', { format: '%!' }), { resolveFrom: pkgDir })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ACCESS_LOG_FORMAT', message: expect.stringMatching(/%!/) }),
    );
  });
});

describe('accessLog: stream output at exit', () => {
  it('hands queued lines to process.stdout when the process exits at once', async () => {
    const { spawnSync } = await import('node:child_process');
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { accessLog } from ${JSON.stringify(dist)};
      const app = accessLog({ format: '%U', stream: process.stdout })(() => [200, [], []]);
      for (let i = 0; i < 5000; i++) {
        const env = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/' + i, REQUEST_URI: '/' + i, QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', 'plank.finish': [] };
        app(env);
        for (const f of env['plank.finish']) f({ status: 200, bodyBytes: 0, headerBytes: 0, aborted: false });
      }
      process.exit(0);
    `;
    const out = join(tmp, 'stdout.log');
    const { openSync, closeSync, readFileSync } = await import('node:fs');
    const fd = openSync(out, 'w');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', fd, 'inherit'],
      timeout: 20_000,
    });
    closeSync(fd);
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n').length).toBe(5001);
  });
});
