import { execFileSync } from 'node:child_process';
import { symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFileBody } from '@plank/core';
import { call, makeTree } from './helpers.fixture.js';
import { fileApp } from './index.js';

const when = new Date('2024-01-02T03:04:05Z');
let tree: ReturnType<typeof makeTree>;
let outside: ReturnType<typeof makeTree>;

beforeAll(() => {
  tree = makeTree({
    'hello.txt': 'hello world\n',
    'app.js': 'console.log(1)\n',
    'data.json': '{}',
    'pic.jpg': Buffer.from([0xff, 0xd8, 0xff]),
    Changes: 'Plank changes\n',
    'empty.txt': '',
    'docs/index.html': '<h1>docs</h1>',
    'docs/guide.txt': 'guide',
    'noindex/a.txt': 'a',
    '.env': 'SECRET=1',
    'sub/.git/config': 'secret',
    'digits.txt': '0123456789',
  });
  outside = makeTree({ 'secret.txt': 'outside root' });
  utimesSync(join(tree.root, 'hello.txt'), when, when);
  symlinkSync(join(outside.root, 'secret.txt'), join(tree.root, 'escape.txt'));
  symlinkSync(outside.root, join(tree.root, 'escape-dir'));
  symlinkSync(join(tree.root, 'hello.txt'), join(tree.root, 'inside-link.txt'));
  symlinkSync(join(tree.root, '.env'), join(tree.root, 'env-link.txt'));
  execFileSync('mkfifo', [join(tree.root, 'fifo.txt')]);
});
afterAll(() => {
  tree.cleanup();
  outside.cleanup();
});

describe('fileApp: headers', () => {
  it('serves a file as a FileBody with type, length, validators and Accept-Ranges', async () => {
    const res = await call(fileApp({ root: tree.root }), '/hello.txt');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello world\n');
    expect(res.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.get('content-length')).toBe('12');
    expect(res.get('last-modified')).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    // Size and mtime in hex, as nginx writes them.
    expect(res.get('etag')).toBe(`"c-${when.getTime().toString(16)}"`);
    expect(res.get('accept-ranges')).toBe('bytes');
    expect(res.get('cache-control')).toBeUndefined();
    expect(isFileBody(res.raw[2])).toBe(true);
    expect(res.raw[2]).toMatchObject({ start: 0, end: 11 });
  });

  it('adds the charset to text, JavaScript and JSON but not to images', async () => {
    const app = fileApp({ root: tree.root });
    expect((await call(app, '/app.js')).get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await call(app, '/data.json')).get('content-type')).toBe('application/json; charset=utf-8');
    expect((await call(app, '/pic.jpg')).get('content-type')).toBe('image/jpeg');
  });

  it('uses the configured encoding, or none', async () => {
    expect((await call(fileApp({ root: tree.root, encoding: 'iso-8859-1' }), '/hello.txt')).get('content-type')).toBe(
      'text/plain; charset=iso-8859-1',
    );
    expect((await call(fileApp({ root: tree.root, encoding: false }), '/hello.txt')).get('content-type')).toBe(
      'text/plain',
    );
  });

  it('falls back to text/plain for unknown extensions, as Plack does, or to defaultType', async () => {
    expect((await call(fileApp({ root: tree.root }), '/Changes')).get('content-type')).toBe(
      'text/plain; charset=utf-8',
    );
    expect(
      (await call(fileApp({ root: tree.root, defaultType: 'application/octet-stream' }), '/Changes')).get(
        'content-type',
      ),
    ).toBe('application/octet-stream');
  });

  it('takes a contentType string or function, falling back to the table when the function returns nothing', async () => {
    expect(
      (await call(fileApp({ root: tree.root, contentType: 'text/x-changes' }), '/Changes')).get('content-type'),
    ).toBe('text/x-changes; charset=utf-8');
    const fn = fileApp({ root: tree.root, contentType: (p) => (p.endsWith('.txt') ? 'text/x-fooo' : undefined) });
    expect((await call(fn, '/hello.txt')).get('content-type')).toBe('text/x-fooo; charset=utf-8');
    expect((await call(fn, '/pic.jpg')).get('content-type')).toBe('image/jpeg');
  });

  it('sends weak ETags or none when asked', async () => {
    expect((await call(fileApp({ root: tree.root, etag: 'weak' }), '/hello.txt')).get('etag')).toMatch(/^W\/"c-/);
    const none = await call(fileApp({ root: tree.root, etag: false, lastModified: false }), '/hello.txt');
    expect(none.get('etag')).toBeUndefined();
    expect(none.get('last-modified')).toBeUndefined();
  });

  it('sends Cache-Control from maxAge and immutable', async () => {
    expect((await call(fileApp({ root: tree.root, maxAge: 600 }), '/hello.txt')).get('cache-control')).toBe(
      'public, max-age=600',
    );
    expect(
      (await call(fileApp({ root: tree.root, maxAge: 31536000, immutable: true }), '/hello.txt')).get('cache-control'),
    ).toBe('public, max-age=31536000, immutable');
  });

  it('lets setHeaders change the headers of file responses', async () => {
    const seen: string[] = [];
    const app = fileApp({
      root: tree.root,
      setHeaders: (h, path, st) => {
        seen.push(`${path}:${st.size}`);
        h.push('X-Frame-Options', 'DENY');
      },
    });
    const res = await call(app, '/hello.txt');
    expect(res.get('x-frame-options')).toBe('DENY');
    expect(seen).toEqual([`${join(tree.root, 'hello.txt')}:12`]);
  });

  it('serves one configured file for every path', async () => {
    const app = fileApp({ file: join(tree.root, 'Changes') });
    for (const p of ['/', '/whatever', '/a/../b']) {
      const res = await call(app, p);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('Plank changes\n');
      expect(res.get('content-type')).toBe('text/plain; charset=utf-8');
    }
  });

  it('sends an empty file with Content-Length 0 and an empty body', async () => {
    const res = await call(fileApp({ root: tree.root }), '/empty.txt');
    expect(res.status).toBe(200);
    expect(res.get('content-length')).toBe('0');
    expect(res.raw[2]).toEqual([]);
  });
});

describe('fileApp: methods and HEAD', () => {
  it('answers HEAD with the GET headers and no body', async () => {
    const app = fileApp({ root: tree.root });
    const get = await call(app, '/hello.txt');
    const head = await call(app, '/hello.txt', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers).toEqual(get.headers);
    expect(head.body.length).toBe(0);
  });

  it('answers other methods with 405 and Allow', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await call(fileApp({ root: tree.root }), '/hello.txt', {}, m);
      expect(res.status).toBe(405);
      expect(res.get('allow')).toBe('GET, HEAD');
    }
  });
});

describe('fileApp: conditional requests', () => {
  const app = (): ReturnType<typeof fileApp> => fileApp({ root: tree.root, maxAge: 60 });

  it('answers a matching If-None-Match with 304 and no representation headers', async () => {
    const { get } = await call(app(), '/hello.txt');
    const res = await call(app(), '/hello.txt', { 'If-None-Match': get('etag') as string });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.get('etag')).toBe(get('etag'));
    expect(res.get('cache-control')).toBe('public, max-age=60');
    for (const h of ['content-type', 'content-length', 'accept-ranges']) expect(res.get(h)).toBeUndefined();
  });

  it('answers If-Modified-Since at or after the mtime with 304, before it with 200', async () => {
    expect((await call(app(), '/hello.txt', { 'If-Modified-Since': 'Tue, 02 Jan 2024 03:04:05 GMT' })).status).toBe(
      304,
    );
    expect((await call(app(), '/hello.txt', { 'If-Modified-Since': 'Tue, 02 Jan 2024 03:04:04 GMT' })).status).toBe(
      200,
    );
  });

  it('answers a failed If-Match or If-Unmodified-Since with 412', async () => {
    expect((await call(app(), '/hello.txt', { 'If-Match': '"nope"' })).status).toBe(412);
    expect((await call(app(), '/hello.txt', { 'If-Unmodified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' })).status).toBe(
      412,
    );
    expect((await call(app(), '/hello.txt', { 'If-Match': '*' })).status).toBe(200);
  });
});

describe('fileApp: ranges', () => {
  const app = (): ReturnType<typeof fileApp> => fileApp({ root: tree.root });

  it('answers a single range with 206, Content-Range and a FileBody slice', async () => {
    const res = await call(app(), '/digits.txt', { Range: 'bytes=2-4' });
    expect(res.status).toBe(206);
    expect(res.get('content-range')).toBe('bytes 2-4/10');
    expect(res.get('content-length')).toBe('3');
    expect(res.body.toString()).toBe('234');
    expect(res.raw[2]).toMatchObject({ start: 2, end: 4 });
  });

  it('answers a suffix range with the last bytes', async () => {
    expect((await call(app(), '/digits.txt', { Range: 'bytes=-3' })).body.toString()).toBe('789');
  });

  it('answers several ranges with multipart/byteranges of the exact announced length', async () => {
    const res = await call(app(), '/digits.txt', { Range: 'bytes=0-1,5-6' });
    expect(res.status).toBe(206);
    const m = /^multipart\/byteranges; boundary=(\w+)$/.exec(res.get('content-type') as string);
    expect(m).not.toBeNull();
    const b = (m as RegExpExecArray)[1];
    expect(res.body.toString()).toBe(
      `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n` +
        `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 5-6/10\r\n\r\n56\r\n--${b}--\r\n`,
    );
    expect(Number(res.get('content-length'))).toBe(res.body.length);
  });

  it('merges overlapping ranges into one part', async () => {
    const res = await call(app(), '/digits.txt', { Range: 'bytes=0-5,3-8,0-' });
    expect(res.status).toBe(206);
    expect(res.get('content-range')).toBe('bytes 0-9/10');
  });

  it('answers an unsatisfiable range with 416 and Content-Range */size', async () => {
    const res = await call(app(), '/digits.txt', { Range: 'bytes=10-20' });
    expect(res.status).toBe(416);
    expect(res.get('content-range')).toBe('bytes */10');
  });

  it('sends the whole file for too many ranges, bad syntax, HEAD, or a stale If-Range', async () => {
    const many = Array.from({ length: 21 }, (_, i) => `${i}-${i}`).join(',');
    expect(
      (await call(fileApp({ root: tree.root, maxRanges: 20 }), '/digits.txt', { Range: `bytes=${many}` })).status,
    ).toBe(200);
    expect((await call(app(), '/digits.txt', { Range: 'lines=1-2' })).status).toBe(200);
    expect((await call(app(), '/digits.txt', { Range: 'bytes=1-2' }, 'HEAD')).status).toBe(200);
    expect((await call(app(), '/digits.txt', { Range: 'bytes=1-2', 'If-Range': '"stale"' })).status).toBe(200);
  });

  it('honours If-Range with the current ETag or Last-Modified', async () => {
    const etag = (await call(app(), '/hello.txt')).get('etag') as string;
    expect((await call(app(), '/hello.txt', { Range: 'bytes=0-4', 'If-Range': etag })).status).toBe(206);
    expect(
      (await call(app(), '/hello.txt', { Range: 'bytes=0-4', 'If-Range': 'Tue, 02 Jan 2024 03:04:05 GMT' })).status,
    ).toBe(206);
  });

  it('ignores Range when acceptRanges is off', async () => {
    const res = await call(fileApp({ root: tree.root, acceptRanges: false }), '/digits.txt', { Range: 'bytes=0-1' });
    expect(res.status).toBe(200);
    expect(res.get('accept-ranges')).toBeUndefined();
  });
});

describe('fileApp: directories', () => {
  it('redirects a directory without its slash with 301 to the slashed raw path', async () => {
    const res = await call(fileApp({ root: tree.root }), '/docs?x=1');
    expect(res.status).toBe(301);
    expect(res.get('location')).toBe('/docs/?x=1');
    expect(res.body.toString()).not.toContain('docs');
  });

  it('never redirects off-site, whatever slashes lead the path', async () => {
    const res = await call(fileApp({ root: tree.root }), '//docs');
    expect(res.status).toBe(301);
    expect(res.get('location')).toBe('/docs/');
  });

  it('serves the index file of a directory, or 404 without one', async () => {
    const app = fileApp({ root: tree.root });
    const res = await call(app, '/docs/');
    expect(res.status).toBe(200);
    expect(res.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await call(app, '/noindex/')).status).toBe(404);
    expect((await call(fileApp({ root: tree.root, index: false }), '/docs/')).status).toBe(404);
    expect(
      (await call(fileApp({ root: tree.root, index: ['nope.html', 'guide.txt'] }), '/docs/')).body.toString(),
    ).toBe('guide');
  });

  it('answers 404 instead of redirecting when redirect is off', async () => {
    expect((await call(fileApp({ root: tree.root, redirect: false }), '/docs')).status).toBe(404);
  });

  it('answers 404 for a file requested with trailing slashes', async () => {
    for (let i = 1; i <= 5; i++) {
      const res = await call(fileApp({ root: tree.root }), `/hello.txt${'/'.repeat(i)}`);
      expect(res.status).toBe(404);
      expect(res.body.toString()).toBe('not found');
    }
  });
});

describe('fileApp: what is never served', () => {
  it('hides dotfiles by default, denies or allows them on request', async () => {
    expect((await call(fileApp({ root: tree.root }), '/.env')).status).toBe(404);
    expect((await call(fileApp({ root: tree.root }), '/sub/.git/config')).status).toBe(404);
    expect((await call(fileApp({ root: tree.root, dotfiles: 'deny' }), '/.env')).status).toBe(403);
    expect((await call(fileApp({ root: tree.root, dotfiles: 'allow' }), '/.env')).body.toString()).toBe('SECRET=1');
  });

  it('applies the dotfiles policy to a symlink that points at a dotfile', async () => {
    expect((await call(fileApp({ root: tree.root }), '/env-link.txt')).status).toBe(404);
    expect((await call(fileApp({ root: tree.root, dotfiles: 'deny' }), '/env-link.txt')).status).toBe(403);
  });

  it('refuses symlinks that leave the root with 403 unless followSymlinks is on', async () => {
    expect((await call(fileApp({ root: tree.root }), '/escape.txt')).status).toBe(403);
    expect((await call(fileApp({ root: tree.root }), '/escape-dir/secret.txt')).status).toBe(403);
    expect((await call(fileApp({ root: tree.root }), '/inside-link.txt')).body.toString()).toBe('hello world\n');
    expect((await call(fileApp({ root: tree.root, followSymlinks: true }), '/escape.txt')).body.toString()).toBe(
      'outside root',
    );
  });

  it('answers 404 for a FIFO without opening it', async () => {
    const res = await call(fileApp({ root: tree.root }), '/fifo.txt');
    expect(res.status).toBe(404);
  });

  it('answers 400 for NUL bytes, invalid percent-encoding and over-long paths, 403 for traversal', async () => {
    const app = fileApp({ root: tree.root });
    expect((await call(app, '/hello.txt%00')).status).toBe(400);
    expect((await call(app, '/hello%zz.txt')).status).toBe(400);
    expect((await call(app, `/${'a'.repeat(300)}`)).status).toBe(400);
    expect((await call(app, '/..%2fhello.txt')).status).toBe(403);
    expect((await call(app, '/docs/..%5c..%5chello.txt')).status).toBe(403);
  });
});

describe('fileApp: options', () => {
  it('rejects bad options with PLANK_ERR_STATIC_OPTION, naming the option and the value', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ root: tree.root, etag: 'strongest' }, /"etag".*"strongest"/],
      [{ root: tree.root, dotfiles: 'hide' }, /"dotfiles".*"hide"/],
      [{ root: tree.root, maxAge: -1 }, /"maxAge".*-1/],
      [{ root: tree.root, immutable: true }, /"immutable"/],
      [{ root: tree.root, index: ['../x'] }, /"index"/],
      [{ root: tree.root, precompressed: ['deflate'] }, /"precompressed"/],
      [{ root: tree.root, cache: { size: 1 } }, /"cache"/],
      [{ root: tree.root, cache: { maxFileSize: -1 } }, /"cache.maxFileSize".*-1/],
      [{ root: tree.root, cache: { maxBytes: 1.5 } }, /"cache.maxBytes".*1.5/],
      [{ root: tree.root, pass_through: true }, /unknown option "pass_through"/],
      [{ root: tree.root, file: 'x' }, /"file".*"root"/],
    ];
    for (const [opts, message] of cases) {
      expect(() => fileApp(opts as never)).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_STATIC_OPTION', message: expect.stringMatching(message) }),
      );
    }
  });

  it('names the option a misspelt one was probably meant to be', () => {
    expect(() => fileApp({ root: tree.root, maxage: 60 } as never)).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_STATIC_OPTION',
        message: expect.stringContaining('unknown option "maxage" (did you mean "maxAge"?'),
      }),
    );
  });

  it('rejects a missing root or file with PLANK_ERR_STATIC_ROOT when built', () => {
    expect(() => fileApp({ root: join(tree.root, 'missing') })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_STATIC_ROOT' }),
    );
    expect(() => fileApp({ root: join(tree.root, 'hello.txt') })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_STATIC_ROOT' }),
    );
    expect(() => fileApp({ file: join(tree.root, 'docs') })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_STATIC_ROOT' }),
    );
  });
});
