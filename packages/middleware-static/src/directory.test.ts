import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, makeTree } from './helpers.fixture.js';
import { directoryApp } from './index.js';

let tree: ReturnType<typeof makeTree>;

beforeAll(() => {
  tree = makeTree({
    'a.txt': 'A',
    'sub/b.txt': 'B',
    '<script>alert(1)<\\script>.txt': 'x',
    'javascript:alert(1)': 'x',
    '"quoted" & \'single\'.txt': 'x',
    'é.txt': 'x',
    '.hidden': 'x',
    'many/': '',
  });
});
afterAll(() => tree.cleanup());

describe('directoryApp', () => {
  it('lists a directory with escaped names, encoded relative links and security headers', async () => {
    const res = await call(directoryApp({ root: tree.root }), '/');
    expect(res.status).toBe(200);
    expect(res.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(res.get('x-content-type-options')).toBe('nosniff');
    expect(res.get('x-frame-options')).toBe('DENY');
    const html = res.body.toString();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;\\script&#62;.txt');
    expect(html).toContain('href="./javascript%3Aalert(1)"');
    expect(html).toContain('&#34;quoted&#34; &#38; &#39;single&#39;.txt');
    expect(html).toContain('href="./%C3%A9.txt"');
    expect(html).toContain('href="./sub/"');
    expect(html).not.toContain('.hidden');
    expect(html).not.toContain('href="../"');
  });

  it('shows hidden entries only with dotfiles allow, and a parent link below the root', async () => {
    expect((await call(directoryApp({ root: tree.root, dotfiles: 'allow' }), '/')).body.toString()).toContain(
      '.hidden',
    );
    expect((await call(directoryApp({ root: tree.root }), '/sub/')).body.toString()).toContain('href="../"');
  });

  it('escapes the request path in the title', async () => {
    const res = await call(directoryApp({ root: tree.root }), '/sub/?<b>');
    expect(res.body.toString()).toContain('<title>Index of /sub/</title>');
  });

  it('serves files, redirects directories without slash and refuses traversal', async () => {
    const app = directoryApp({ root: tree.root });
    expect((await call(app, '/sub/b.txt')).body.toString()).toBe('B');
    const redirect = await call(app, '/sub');
    expect(redirect.status).toBe(301);
    expect(redirect.get('location')).toBe('/sub/');
    expect((await call(app, '/sub/..%2f..%2fetc/')).status).toBe(403);
    expect((await call(app, '/', {}, 'POST')).status).toBe(405);
  });

  it('cuts a long listing at maxEntries and says so', async () => {
    const res = await call(directoryApp({ root: tree.root, maxEntries: 2 }), '/');
    expect(res.body.toString()).toMatch(/Only the first 2 of \d+ entries are listed/);
    expect(() => directoryApp({ root: tree.root, maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_STATIC_OPTION' }),
    );
  });

  it('answers HEAD with the listing headers and no body', async () => {
    const res = await call(directoryApp({ root: join(tree.root, 'sub') }), '/', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(Number(res.get('content-length'))).toBeGreaterThan(0);
    expect(res.body.length).toBe(0);
  });
});
