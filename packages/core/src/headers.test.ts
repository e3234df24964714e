import { describe, expect, it } from 'vitest';
import { header } from './index.js';

describe('header helpers', () => {
  it('get finds the first value case-insensitively', () => {
    expect(header.get(['Content-Type', 'text/plain', 'content-type', 'x'], 'CONTENT-TYPE')).toBe('text/plain');
    expect(header.get(['A', '1'], 'B')).toBeUndefined();
  });

  it('getAll returns every value in order', () => {
    expect(header.getAll(['Set-Cookie', 'a=1', 'X', 'y', 'set-cookie', 'b=2'], 'Set-Cookie')).toEqual(['a=1', 'b=2']);
  });

  it('set replaces every occurrence with one, in the first place', () => {
    const h = ['A', '1', 'B', '2', 'a', '3'];
    expect(header.set(h, 'a', '9')).toBe(h);
    expect(h).toEqual(['A', '9', 'B', '2']);
    expect(header.set(['B', '2'], 'A', '1')).toEqual(['B', '2', 'A', '1']);
  });

  it('push keeps existing values', () => {
    expect(header.push(['Vary', 'Accept'], 'vary', 'Cookie')).toEqual(['Vary', 'Accept', 'vary', 'Cookie']);
  });

  it('remove drops every occurrence and has reports presence', () => {
    const h = ['A', '1', 'B', '2', 'a', '3', 'a', '4'];
    header.remove(h, 'A');
    expect(h).toEqual(['B', '2']);
    expect(header.has(h, 'b')).toBe(true);
    expect(header.has(h, 'a')).toBe(false);
  });
});
