// The traversal / encoding / dotfile / symlink corpus, sent byte for byte over a real
// socket (rawRequest: no client normalises anything). Each request has its expected
// status, and no response may carry a byte of the files outside the root or hidden in it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builder, lint, type App } from '@plank/core';
import { listen, rawRequest } from '@plank/test';
import type { ServerHandle } from '@plank/server-node';
import { makeTree } from './helpers.fixture.js';
import { fileApp, serveStatic } from './index.js';

type Case = [request: string, status: number, expect?: { body?: string; location?: RegExp }];

const long = (n: number, unit = 'a'): string => unit.repeat(n);

const corpus: Case[] = [
  // Plain traversal, raw and percent-encoded, in every spelling of dot and slash.
  ['/../secret.txt', 403],
  ['/../../../../etc/passwd', 403],
  ['/..%2fsecret.txt', 403],
  ['/..%2F..%2F..%2Fetc%2Fpasswd', 403],
  ['/%2e%2e/secret.txt', 403],
  ['/%2e%2e%2fsecret.txt', 403],
  ['/%2E%2E%2Fsecret.txt', 403],
  ['/.%2e/secret.txt', 403],
  ['/%2e./secret.txt', 403],
  ['/sub/../../secret.txt', 403],
  ['/sub/..%2f..%2fsecret.txt', 403],
  ['/sub%2f..%2f..%2fsecret.txt', 403],
  ['/..\\secret.txt', 403],
  ['/..%5csecret.txt', 403],
  ['/..%5C..%5Cetc%5Cpasswd', 403],
  ['/%2e%2e%5csecret.txt', 403],
  ['/sub\\..\\..\\secret.txt', 403],
  ['/.../secret.txt', 403],
  ['/..../secret.txt', 403],
  ['/sub/.../.../secret.txt', 403],
  ['/./../secret.txt', 403],
  ['/a.txt/../../secret.txt', 403],
  ['//../secret.txt', 403],
  ['/sub//..//..//secret.txt', 403],
  ['/.env/../../secret.txt', 403],
  // Decoded once only: double encoding names a file called `%2e%2e`, which is not there.
  ['/%252e%252e/secret.txt', 404],
  ['/%252e%252e%252fsecret.txt', 404],
  ['/..%252fsecret.txt', 404],
  ['/%25%32%65%25%32%65/secret.txt', 404],
  ['/%252e%252e%255csecret.txt', 404],
  // Overlong and other non-UTF-8 spellings of `.` and `/` never turn into separators.
  ['/%c0%ae%c0%ae/secret.txt', 404],
  ['/%c0%af..%c0%afsecret.txt', 404],
  ['/%e0%80%ae%e0%80%ae/secret.txt', 404],
  ['/..%c0%afsecret.txt', 404],
  ['/%c1%9c..%c1%9csecret.txt', 404],
  // IIS-style %u escapes and stray percent signs are not percent-encoding.
  ['/%uff0e%uff0e/secret.txt', 400],
  ['/a%zz.txt', 400],
  ['/a%2.txt', 400],
  ['/a.txt%', 400],
  ['/%%32%65%%32%65/secret.txt', 400],
  // NUL bytes.
  ['/a.txt%00', 400],
  ['/a.txt%00.jpg', 400],
  ['/%00/../secret.txt', 400],
  ['/sub/b.txt%00.html', 400],
  // Over-long paths and names.
  [`/${long(5000)}`, 400],
  [`/${long(256)}`, 400],
  [`/${long(2100, 'a/')}`, 400],
  [`/sub/${long(300, 'b')}.txt`, 400],
  // Dotfiles are hidden (404) at every depth, however the dot is spelled.
  ['/.env', 404],
  ['/.git/config', 404],
  ['/.git/', 404],
  ['/.git', 404],
  ['/sub/.hidden', 404],
  ['/%2eenv', 404],
  ['/%2Egit%2Fconfig', 404],
  ['/sub/%2ehidden', 404],
  ['/sub%2f.hidden', 404],
  ['/sub\\.hidden', 404],
  ['/.%65nv', 404],
  ['/dotlink.txt', 404],
  // Symlinks that leave the root are refused; one that stays inside is served.
  ['/link-out.txt', 403],
  ['/link-dir-out/secret.txt', 403],
  ['/link-dir-out/', 403],
  ['/link-dir-out', 403],
  ['/link-in.txt', 200, { body: 'A' }],
  // Directories redirect to a same-host path, never to `//host`.
  ['/sub', 301, { location: /^\/sub\/$/ }],
  ['//sub', 301, { location: /^\/sub\/$/ }],
  ['//evil.example', 301, { location: /^\/evil\.example\/$/ }],
  ['/\\evil.example', 301, { location: /^\/evil\.example\/$/ }],
  ['/%5cevil.example', 301, { location: /^\/%5cevil\.example\/$/ }],
  ['/%2fevil.example', 301, { location: /^\/%2fevil\.example\/$/ }],
  ['/sub?next=//evil.example', 301, { location: /^\/sub\/\?next=\/\/evil\.example$/ }],
  ['/sub/', 404],
  // Things that are not regular files, or not this file.
  ['/fifo', 404],
  ['/A.TXT', 404],
  ['/a.txt/', 404],
  ['/a.txt%2f', 404],
  ['/a.txt;.jpg', 404],
  ['/a.txt::$DATA', 404],
  ['/a.txt%20', 404],
  ['/a.txt.', 404],
  // The plain cases still work.
  ['/a.txt', 200, { body: 'A' }],
  ['/a.txt?../../secret.txt', 200, { body: 'A' }],
  ['/sub%2fb.txt', 200, { body: 'B' }],
  ['/./a.txt', 200, { body: 'A' }],
  ['//a.txt', 200, { body: 'A' }],
  // Through serveStatic with a rewriting path function: checked after the rewrite.
  ['/s/a.txt', 200, { body: 'A' }],
  ['/s/..%2fsecret.txt', 403],
  ['/s/%2e%2e/%2e%2e/secret.txt', 403],
  ['/s/.env', 404],
  ['/s/link-out.txt', 403],
  ['/s/missing.txt', 404],
];

let base: ReturnType<typeof makeTree>;
let outside: ReturnType<typeof makeTree>;
let handle: ServerHandle;

beforeAll(async () => {
  base = makeTree({
    'secret.txt': 'SECRET-PARENT',
    'public/a.txt': 'A',
    'public/sub/b.txt': 'B',
    'public/.env': 'SECRET-DOTFILE',
    'public/.git/config': 'SECRET-GIT',
    'public/sub/.hidden': 'SECRET-HIDDEN',
    'public/evil.example/index.html': 'not evil',
    'public/%2fevil.example/x': 'odd name',
  });
  outside = makeTree({ 'secret.txt': 'SECRET-OUTSIDE' });
  const root = join(base.root, 'public');
  symlinkSync(join(base.root, 'secret.txt'), join(root, 'link-out.txt'));
  symlinkSync(outside.root, join(root, 'link-dir-out'));
  symlinkSync(join(root, 'a.txt'), join(root, 'link-in.txt'));
  symlinkSync(join(root, '.env'), join(root, 'dotlink.txt'));
  mkdirSync(join(root, '%5cevil.example'));
  writeFileSync(join(root, '%5cevil.example', 'x'), 'odd name');
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const files = fileApp({ root });
  const app: App = builder(({ enable }) => {
    enable(serveStatic({ path: (p) => p.startsWith('/s/') && p.slice(2), root }));
    return files;
  });
  handle = await listen(lint(app));
});
afterAll(async () => {
  await handle?.close({ timeout: 1000 });
  base.cleanup();
  outside.cleanup();
});

describe('security corpus over a real socket', () => {
  it('has at least 60 requests', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
  });

  it.each(corpus)('answers GET %s with %i and nothing from outside the root', async (path, status, want) => {
    const res = await rawRequest(
      handle.port as number,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(res.text).not.toMatch(/SECRET/);
    expect(res.status).toBe(status);
    if (want?.body !== undefined) expect(res.text).toBe(want.body);
    if (want?.location) expect(res.headers.location).toMatch(want.location);
  });

  it('answers HEAD and absolute-form traversals with 403 too', async () => {
    const port = handle.port as number;
    expect(
      (await rawRequest(port, 'HEAD /../secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).status,
    ).toBe(403);
    const abs = await rawRequest(
      port,
      `GET http://127.0.0.1:${port}/..%2fsecret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(abs.text).not.toMatch(/SECRET/);
    expect(abs.status).toBe(403);
  });
});
