import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fakeEnv } from './fake-env.fixture.js';
import { bodyToBuffer, lint, PlankError } from './index.js';
import type { App, AppResult, Chunk, Env, Headers, Response, StreamingResponse, Writer } from './index.js';

const env = fakeEnv;

const ok: App = () => [200, ['Content-Type', 'text/plain'], ['Hello']];

// Runs a lint-wrapped app to completion (streaming included) and returns the error, if any.
async function run(app: App, e: Env = env()): Promise<unknown> {
  try {
    const res = await lint(app)(e);
    if (typeof res === 'function') await drive(res);
    else await bodyToBuffer(res[2]);
    return undefined;
  } catch (err) {
    return err;
  }
}

async function drive(res: StreamingResponse): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  const writer: Writer = {
    aborted: false,
    write: async (c) => void chunks.push(c),
    close: async () => {},
  };
  await res((r) => {
    if (r.length === 3) void bodyToBuffer(r[2]);
    return writer;
  });
  return chunks;
}

async function lintError(app: App, e?: Env): Promise<string> {
  const err = await run(app, e);
  expect(err).toBeInstanceOf(PlankError);
  expect((err as PlankError).code).toBe('PLANK_ERR_LINT');
  return (err as PlankError).message;
}

const raw = (value: unknown): App => (() => value) as unknown as App;

describe('lint rejects every bad app from Plack’s lint.t', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['a hash response', {}, /must be an array/],
    ['a 4-element response', [200, [], [], []], /exactly 3 elements/],
    ['a 2-element response outside streaming', [200, []], /exactly 3 elements/],
    ['headers given as an object', [200, {}, []], /flat array/],
    ['status 0 with a string body', [0, [], 'Hello World'], /integer from 100 to 999/],
    ['an object body', [200, [], {}], /body must be/],
    ['an undefined body', [200, [], undefined], /body must be .* got undefined/],
    ['header name "Foo:"', [200, ['Foo:', 'bar'], ['Hello']], /"Foo:" must be a token/],
    ['header name "Foo-"', [200, ['Foo-', 'bar'], ['Hello']], /"Foo-" must be a token/],
    ['header name "0xyz"', [200, ['0xyz', 'bar'], ['Hello']], /"0xyz" must be a token that starts with a letter/],
    ['a Status header', [200, ['Status', '201'], ['Hi']], /must not contain "Status"/],
    ['header name "Foo\\nBar"', [200, ['Foo\nBar', 'baz'], ['']], /"Foo\\nBar" must be a token/],
    [
      'a header value with \\n',
      [200, ['Location', 'Foo\nBar'], []],
      /value of header "Location" must not contain CR, LF/,
    ],
    ['an odd header count', [200, ['Foo'], ['Hello']], /even number of elements/],
    [
      'an undefined header value',
      [200, ['X-Foo', undefined], ['Hi']],
      /value of header "X-Foo" must be a string, got undefined/,
    ],
  ];
  for (const [name, response, message] of cases) {
    it(`rejects ${name}`, async () => {
      expect(await lintError(raw(response))).toMatch(message);
    });
  }

  it('rejects a streaming response that responds with an object body', async () => {
    const app = raw((respond: (r: unknown) => Writer) => void respond([200, [], {}]));
    expect(await lintError(app)).toMatch(/body must be/);
  });

  it('rejects a streaming response that responds with an undefined body', async () => {
    const app = raw((respond: (r: unknown) => Writer) => void respond([200, [], undefined]));
    expect(await lintError(app)).toMatch(/got undefined/);
  });

  it('rejects SCRIPT_NAME "/" set by a middleware in front of it', async () => {
    expect(await lintError(ok, env({ SCRIPT_NAME: '/' }))).toMatch(/SCRIPT_NAME must not be "\/"/);
  });

  it('accepts a good app with a stream body', async () => {
    expect(await run(() => [200, ['Content-Type', 'text/plain'], Readable.from([Buffer.from('foo')])])).toBeUndefined();
  });
});

describe('lint checks the env', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing REQUEST_METHOD', { REQUEST_METHOD: undefined }, /REQUEST_METHOD is required/],
    ['a REQUEST_METHOD that is not a token', { REQUEST_METHOD: 'GE T' }, /REQUEST_METHOD must be a token/],
    ['a SCRIPT_NAME without a leading slash', { SCRIPT_NAME: 'app' }, /SCRIPT_NAME must be "" or start with "\/"/],
    ['a PATH_INFO without a leading slash', { PATH_INFO: 'foo' }, /PATH_INFO must be "" or start with "\/"/],
    ['an empty SERVER_NAME', { SERVER_NAME: '' }, /SERVER_NAME must not be empty/],
    ['a SERVER_PORT that is not a number', { SERVER_PORT: 'http' }, /SERVER_PORT must be a decimal number, got "http"/],
    [
      'a bad SERVER_PROTOCOL',
      { SERVER_PROTOCOL: 'HTTP/11' },
      /SERVER_PROTOCOL must look like "HTTP\/1.1", got "HTTP\/11"/,
    ],
    ['HTTP_CONTENT_TYPE', { HTTP_CONTENT_TYPE: 'text/plain' }, /HTTP_CONTENT_TYPE must not exist .* use CONTENT_TYPE/],
    ['HTTP_CONTENT_LENGTH', { HTTP_CONTENT_LENGTH: '3' }, /HTTP_CONTENT_LENGTH must not exist/],
    ['a CONTENT_LENGTH that is not a number', { CONTENT_LENGTH: '-1' }, /CONTENT_LENGTH must be a decimal number/],
    ['a CGI value that is not a string', { HTTP_X_COUNT: 3 }, /env.HTTP_X_COUNT must be a string, got 3/],
    ['a CGI value that is not a byte string', { HTTP_X_NAME: 'caf\u00e9 \u20ac' }, /HTTP_X_NAME must be a byte string/],
    ['an extension key without a dot', { user: 'bob' }, /env key "user" .* need a dot, like "myapp.user"/],
    ['a psgi.version that is not [1, 1]', { 'psgi.version': '1.1' }, /psgi.version"\] must be \[1, 1\]/],
    ['an unknown url scheme', { 'psgi.url_scheme': 'ftp' }, /url_scheme"\] must be "http" or "https", got "ftp"/],
    ['a psgi.input that is not a Readable', { 'psgi.input': 'body' }, /psgi.input"\] must be a Readable/],
    ['a psgi.errors without write', { 'psgi.errors': {} }, /psgi.errors"\] must be an object with a write/],
    ['a missing psgi.multiprocess', { 'psgi.multiprocess': undefined }, /psgi.multiprocess"\] is required/],
    ['psgi.streaming false', { 'psgi.streaming': false }, /psgi.streaming"\] must be true/],
    ['psgix.cleanup without handlers', { 'psgix.cleanup': true }, /cleanup.handlers"\] must be an array/],
    ['a psgix.logger that is not a function', { 'psgix.logger': {} }, /psgix.logger"\] must be a function/],
    [
      'a psgix.io that is not a socket',
      { 'psgix.io': { remoteAddress: '127.0.0.1' } },
      /psgix.io"\] must be the connection's socket \(a Duplex\)/,
    ],
    ['a plank.finish that is not an array', { 'plank.finish': () => {} }, /plank.finish"\] must be an array/],
  ];
  for (const [name, overrides, message] of bad) {
    it(`rejects ${name}`, async () => {
      expect(await lintError(ok, env(overrides))).toMatch(message);
    });
  }

  it('rejects an env that is not an object', async () => {
    expect(await lintError(ok, null as unknown as Env)).toMatch(/env must be an object, got null/);
  });

  it('accepts latin1 bytes, an empty PATH_INFO, a mount point, and extensions', async () => {
    const e = env({
      PATH_INFO: '',
      SCRIPT_NAME: '/app',
      HTTP_X_NAME: 'caf\u00c3\u00a9',
      'myapp.user': { id: 1 },
      'plank.finish': [],
      REMOTE_ADDR: '',
    });
    expect(await run(ok, e)).toBeUndefined();
  });

  it('checks the env before the app runs', async () => {
    let called = false;
    await run(
      () => {
        called = true;
        return [200, [], []];
      },
      env({ REQUEST_METHOD: '' }),
    );
    expect(called).toBe(false);
  });

  it('refuses to wrap something that is not a function', () => {
    expect(() => lint('app' as unknown as App)).toThrow(/an app must be a function/);
  });
});

describe('lint checks the response', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['a status above 999', [1000, [], []], /integer from 100 to 999, got 1000/],
    ['a string status', ['200', [], []], /integer from 100 to 999, got "200"/],
    ['a fractional status', [200.5, [], []], /got 200.5/],
    ['a bare string body', [200, [], 'Hello'], /not be a bare string; wrap it in an array: \["Hello"\]/],
    ['a bare Uint8Array body', [200, [], new Uint8Array(2)], /bare Uint8Array/],
    ['a number body', [200, [], 42], /got 42/],
    ['a null body', [200, [], null], /got null/],
    ['a chunk that is a number', [200, [], ['a', 1]], /body chunk #1 must be a string or a Uint8Array, got 1/],
    ['a header value with CR', [200, ['X-A', 'a\rb'], []], /must not contain CR/],
    ['a header value with NUL', [200, ['X-A', 'a\0b'], []], /must not contain CR, LF, NUL/],
    ['a header value above \\xff', [200, ['X-A', '\u20ac'], []], /above \\xff/],
    [
      'a non-numeric Content-Length',
      [200, ['Content-Length', 'abc'], []],
      /Content-Length must be a decimal number, got "abc"/,
    ],
    [
      'two Content-Length headers',
      [200, ['Content-Length', '2', 'content-length', '2'], ['ab']],
      /Content-Length must appear once, got 2: \["2","2"\]/,
    ],
    [
      'a Content-Length that disagrees with the array body',
      [200, ['Content-Length', '3'], ['ab']],
      /Content-Length is 3 but the array body holds 2 bytes/,
    ],
    ['Content-Type on a 204', [204, ['Content-Type', 'text/plain'], []], /204 response must not have a Content-Type/],
    ['Content-Length on a 304', [304, ['Content-Length', '0'], []], /304 response must not have a Content-Length/],
    [
      'a lower-case content-type on a 204 (names compare case-insensitively)',
      [204, ['content-type', 'text/plain'], []],
      /204 response must not have a Content-Type header, got "text\/plain"/,
    ],
    [
      'an upper-case CONTENT-LENGTH that disagrees with the array body',
      [200, ['CONTENT-LENGTH', '3'], ['ab']],
      /Content-Length is 3 but the array body holds 2 bytes/,
    ],
    ['a body on a 204', [204, [], ['x']], /204 response must have an empty body/],
    ['a body on a 100', [100, [], ['x']], /100 response must have an empty body/],
    ['a file body on a 304', [304, [], { path: '/etc/hostname' }], /304 response must have an empty body/],
    ['a file body with a negative start', [200, [], { path: '/x', start: -1 }], /start must be a non-negative integer/],
    [
      'a file body whose end is before its start',
      [200, [], { path: '/x', start: 10, end: 5 }],
      /end \(5\) must be >= start - 1 \(9\)/,
    ],
    ['a file body with an empty path', [200, [], { path: '' }], /non-empty path/],
  ];
  for (const [name, response, message] of bad) {
    it(`rejects ${name}`, async () => {
      expect(await lintError(raw(response))).toMatch(message);
    });
  }

  it('counts Content-Length in UTF-8 bytes and accepts it when right', async () => {
    expect(await run(() => [200, ['Content-Length', '7'], ['é', Buffer.from('abcde')]])).toBeUndefined();
  });

  it('does not compare Content-Length with the body of a HEAD response', async () => {
    expect(await run(() => [200, ['Content-Length', '100'], []], env({ REQUEST_METHOD: 'HEAD' }))).toBeUndefined();
  });

  it('checks a promised response too', async () => {
    expect(await lintError(async () => [200, ['Foo:', 'x'], []])).toMatch(/"Foo:"/);
  });

  it('returns a plain response synchronously, as the same array', () => {
    const res: Response = [200, [], ['x']];
    expect(lint(() => res)(env())).toBe(res);
  });

  it('keeps a file body a file body and an array an array', () => {
    const file = { path: '/etc/hostname', start: 0, end: 3 };
    expect((lint(() => [200, [], file])(env()) as Response)[2]).toBe(file);
    const body = ['a'];
    expect((lint(() => [200, [], body])(env()) as Response)[2]).toBe(body);
  });

  it('passes a byte Readable through untouched and unread', () => {
    const stream = new PassThrough();
    const res = lint(() => [200, [], stream])(env()) as Response;
    expect(res[2]).toBe(stream);
    expect(stream.readableFlowing).toBe(null);
  });

  it('checks the chunks of a generator lazily, as they are read', async () => {
    let pulled = 0;
    function* gen(): Generator<Chunk> {
      pulled++;
      yield 'ok';
      yield 7 as unknown as Chunk;
    }
    const res = lint(() => [200, [], gen()])(env()) as Response;
    expect(pulled).toBe(0);
    await expect(bodyToBuffer(res[2])).rejects.toThrow(/a body chunk must be a string or a Uint8Array, got 7/);
  });

  it('checks an object-mode Readable’s chunks and the Content-Length of a stream', async () => {
    const objects = lint(() => [200, [], Readable.from(['a', { b: 1 }])])(env()) as Response;
    await expect(bodyToBuffer(objects[2])).rejects.toThrow(/got \{"b":1\}/);
    const short = lint(() => [200, ['Content-Length', '5'], Readable.from([Buffer.from('abc')])])(env()) as Response;
    await expect(bodyToBuffer(short[2])).rejects.toThrow(/Content-Length is 5 but the body ended after 3 bytes/);
  });

  it('destroys the source stream when the checked stream is destroyed', async () => {
    const source = new PassThrough({ objectMode: true });
    const res = lint(() => [200, [], source])(env()) as Response;
    (res[2] as Readable).destroy();
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed).toBe(true);
  });

  it('checks the chunks of a web ReadableStream', async () => {
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('hi'));
        c.enqueue(5 as unknown as Uint8Array);
        c.close();
      },
    });
    const res = lint(() => [200, [], web])(env()) as Response;
    await expect(bodyToBuffer(res[2])).rejects.toThrow(/a body chunk must be a string or a Uint8Array, got 5/);
  });

  it('accepts every body kind with correct content', async () => {
    const bodies = [
      ['a', new Uint8Array([98])],
      { path: new URL(import.meta.url).pathname },
      Readable.from([Buffer.from('x')]),
      new Blob(['x']).stream(),
      new Set(['x']),
      (async function* () {
        yield 'x';
      })(),
    ];
    for (const body of bodies) expect(await run(() => [200, [], body] as Response)).toBeUndefined();
  });
});

describe('lint checks streaming responses', () => {
  const streaming =
    (fn: (respond: (r: [number, Headers] | Response) => Writer) => void | Promise<void>): App =>
    () =>
      fn as StreamingResponse;

  it('passes a well-behaved streaming response through, writes and all', async () => {
    const res = (await lint(
      streaming(async (respond) => {
        const w = respond([200, ['Content-Type', 'text/plain']]);
        await w.write('a');
        await w.write(Buffer.from('b'));
        await w.close();
        await w.close();
      }),
    )(env())) as StreamingResponse;
    expect(await drive(res)).toEqual(['a', Buffer.from('b')]);
  });

  it('accepts a delayed whole response given to the responder', async () => {
    expect(await run(streaming((respond) => void setImmediate(() => respond([200, [], ['late']]))))).toBeUndefined();
  });

  it('rejects a responder called twice', async () => {
    const message = await lintError(
      streaming((respond) => {
        respond([200, [], ['a']]);
        respond([200, [], ['b']]);
      }),
    );
    expect(message).toMatch(/called exactly once; it was called again/);
  });

  it('rejects a write after close', async () => {
    const message = await lintError(
      streaming(async (respond) => {
        const w = respond([200, []]);
        await w.close();
        await w.write('late');
      }),
    );
    expect(message).toMatch(/write\(\) was called after close\(\) with "late"/);
  });

  it('rejects writing something that is not a chunk', async () => {
    const message = await lintError(
      streaming(async (respond) => {
        const w = respond([200, []]);
        await w.write({ a: 1 } as unknown as Chunk);
      }),
    );
    expect(message).toMatch(/got \{"a":1\}/);
  });

  it('rejects bad heads, a wrong element count, and writes on a 204', async () => {
    expect(await lintError(streaming((respond) => void respond([200, ['Foo-', 'x']])))).toMatch(/"Foo-"/);
    expect(await lintError(streaming((respond) => void respond([200] as unknown as [number, Headers])))).toMatch(
      /got 1 elements/,
    );
    expect(
      await lintError(
        streaming(async (respond) => {
          await respond([204, []]).write('x');
        }),
      ),
    ).toMatch(/204 response must have an empty body/);
  });

  it('rejects a streamed body shorter than its Content-Length when closed', async () => {
    const message = await lintError(
      streaming(async (respond) => {
        const w = respond([200, ['Content-Length', '4']]);
        await w.write('ab');
        await w.close();
      }),
    );
    expect(message).toMatch(/Content-Length is 4 but the body ended after 2 bytes/);
  });

  it('reports on psgi.errors a writer dropped without close', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const logged: string[] = [];
    const e = env({ 'psgi.errors': { write: (s: string) => logged.push(s) } });
    const res = (await lint(streaming((respond) => void respond([200, []]).write('x')))(e)) as StreamingResponse;
    await drive(res);
    for (let i = 0; i < 20 && logged.length === 0; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(logged.join('')).toMatch(/garbage-collected without close\(\)/);
  });
});

describe('lint as a named middleware', () => {
  it('is found by builder as "Lint"', async () => {
    const { builder } = await import('./index.js');
    const app = builder(({ enable }) => {
      enable('Lint');
      return raw([200, ['Status', '200'], []]) as App;
    });
    expect(() => app(env()) as AppResult).toThrow(/must not contain "Status"/);
  });
});

describe('lint against a real server', () => {
  it('accepts the env @plank/server-node builds for odd but valid requests, and its answers', async () => {
    const { listen, rawRequest } = await import('@plank/test');
    const seen: Env[] = [];
    const handle = await listen(
      lint(async (env) => {
        seen.push(env);
        const body: Buffer[] = [];
        for await (const chunk of env['psgi.input']) body.push(chunk as Buffer);
        return [200, ['Content-Type', 'text/plain', 'Content-Length', String(Buffer.concat(body).length)], body];
      }),
    );
    try {
      const requests = [
        'GET /caf%C3%A9/%FF?x=%20 HTTP/1.1\r\nHost: a.test\r\nX-Dup: 1\r\nX-Dup: 2\r\nConnection: close\r\n\r\n',
        'POST /p HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nabc',
        'HEAD / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
      ];
      const statuses: number[] = [];
      for (const r of requests) statuses.push((await rawRequest(handle.port as number, r)).status);
      expect(statuses).toEqual([200, 200, 200]);
      expect(seen[0]).toMatchObject({
        PATH_INFO: '/caf\u00c3\u00a9/\u00ff',
        HTTP_X_DUP: '1, 2',
        QUERY_STRING: 'x=%20',
      });
    } finally {
      await handle.close();
    }
  });
});

describe('scripts/gen-spec.mjs', () => {
  it('writes SPEC.md from the /// lines, and --check fails with the first difference when it is stale', async () => {
    const { mkdtemp, mkdir, copyFile, readFile, writeFile, rm } = await import('node:fs/promises');
    const { spawnSync } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const root = await mkdtemp(join(tmpdir(), 'plank-spec-'));
    try {
      await mkdir(join(root, 'scripts'));
      await mkdir(join(root, 'packages/core/src'), { recursive: true });
      await copyFile(new URL('../../../scripts/gen-spec.mjs', import.meta.url), join(root, 'scripts/gen-spec.mjs'));
      await writeFile(
        join(root, 'packages/core/src/lint.ts'),
        '/// # Title\n///\n/// Rule one.\nconst x = 1;\n/// ## Section\n/// Rule two.\n',
      );
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [join(root, 'scripts/gen-spec.mjs'), ...args], {
          encoding: 'utf8',
          timeout: 10_000,
        });
      expect(run('--check').status).toBe(1);
      expect(run().status).toBe(0);
      const spec = await readFile(join(root, 'SPEC.md'), 'utf8');
      expect(spec).toMatch(
        /^# Title\n\n<!-- Generated by scripts\/gen-spec.mjs from .*lint.ts.*-->\n\nRule one.\n\n## Section\nRule two.\n$/,
      );
      expect(run('--check').status).toBe(0);
      await writeFile(join(root, 'SPEC.md'), spec.replace('Rule two.', 'Rule 2.'));
      const stale = run('--check');
      expect(stale.status).toBe(1);
      expect(stale.stderr).toMatch(/SPEC.md is stale .*\n- Rule 2.\n\+ Rule two./);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
