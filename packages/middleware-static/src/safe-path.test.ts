import { describe, expect, it } from 'vitest';
import { directoryLocation, hasBadPercent, safePath } from './safe-path.js';

const latin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('safePath', () => {
  it('splits a plain path into segments and notes a trailing slash', () => {
    expect(safePath('/a/b.txt', 'ignore')).toEqual({ ok: true, segments: ['a', 'b.txt'], trailingSlash: false });
    expect(safePath('/a/', 'ignore')).toEqual({ ok: true, segments: ['a'], trailingSlash: true });
  });

  it('drops empty and single-dot segments, which cannot climb', () => {
    expect(safePath('//a/./b//c', 'ignore')).toEqual({ ok: true, segments: ['a', 'b', 'c'], trailingSlash: false });
  });

  it('refuses any segment made only of two or more dots with 403', () => {
    for (const p of ['/..', '/a/../b', '/...', '/a/..../b', '/..\\etc', '/a\\..\\..\\b'])
      expect(safePath(p, 'allow')).toEqual({ ok: false, status: 403 });
  });

  it('keeps names that merely contain dots', () => {
    expect(safePath('/a..b/..c/d..', 'allow')).toMatchObject({ ok: true, segments: ['a..b', '..c', 'd..'] });
  });

  it('treats a backslash as a separator', () => {
    expect(safePath('/a\\b', 'ignore')).toMatchObject({ ok: true, segments: ['a', 'b'] });
  });

  it('answers 400 for a NUL byte, an over-long path or an over-long segment', () => {
    expect(safePath('/a\0.txt', 'ignore')).toEqual({ ok: false, status: 400 });
    expect(safePath(`/${'a/'.repeat(2100)}`, 'ignore')).toEqual({ ok: false, status: 400 });
    expect(safePath(`/${'a'.repeat(256)}`, 'ignore')).toEqual({ ok: false, status: 400 });
  });

  it('applies the dotfiles policy to every segment', () => {
    expect(safePath('/.env', 'ignore')).toEqual({ ok: false, status: 404 });
    expect(safePath('/a/.git/config', 'deny')).toEqual({ ok: false, status: 403 });
    expect(safePath('/.well-known/x', 'allow')).toMatchObject({ ok: true, segments: ['.well-known', 'x'] });
  });

  it('reports traversal before a hidden segment, whatever the policy', () => {
    expect(safePath('/.git/../../etc/passwd', 'ignore')).toEqual({ ok: false, status: 403 });
  });

  it('decodes UTF-8 names and refuses bytes that are not UTF-8 with 404', () => {
    expect(safePath(latin1('/é.txt'), 'ignore')).toMatchObject({ ok: true, segments: ['é.txt'] });
    expect(safePath('/\xc0\xae\xc0\xae/x', 'ignore')).toEqual({ ok: false, status: 404 });
  });
});

describe('hasBadPercent', () => {
  it('finds a % that does not start an escape, in the path only', () => {
    expect(hasBadPercent('/a%zz')).toBe(true);
    expect(hasBadPercent('/a%2')).toBe(true);
    expect(hasBadPercent('/a%')).toBe(true);
    expect(hasBadPercent('/a%2F%c3%a9')).toBe(false);
    expect(hasBadPercent('/a?q=%zz')).toBe(false);
  });
});

describe('directoryLocation', () => {
  it('appends a slash and keeps the query', () => {
    expect(directoryLocation('/docs', '')).toBe('/docs/');
    expect(directoryLocation('/docs?x=1', 'x=1')).toBe('/docs/?x=1');
  });

  it('collapses leading slashes and backslashes so the redirect stays on this host', () => {
    expect(directoryLocation('//evil.example', '')).toBe('/evil.example/');
    expect(directoryLocation('/\\evil.example', '')).toBe('/evil.example/');
    expect(directoryLocation('///\\/evil.example/x', '')).toBe('/evil.example/x/');
  });

  it('percent-encodes bytes that are unsafe in a URL and keeps existing escapes', () => {
    expect(directoryLocation('/a\\b"<c>', '')).toBe('/a%5Cb%22%3Cc%3E/');
    expect(directoryLocation('/caf%C3%A9', '')).toBe('/caf%C3%A9/');
  });

  it('keeps only the path of an absolute-form target', () => {
    expect(directoryLocation('http://evil.example/dir', '')).toBe('/dir/');
  });
});
