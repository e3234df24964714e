import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { lint, PlankError, ResponseBuilder, serializeCookie } from './index.js';

describe('ResponseBuilder', () => {
  it('finalizes to [status, headers, body] with a string body as one chunk', () => {
    const res = new ResponseBuilder();
    res.contentType = 'text/plain';
    res.body = 'Hello';
    expect(res.finalize()).toEqual([200, ['Content-Type', 'text/plain'], ['Hello']]);
    expect(new ResponseBuilder(204).finalize()).toEqual([204, [], []]);
  });

  it('sets, pushes and reads headers case-insensitively, keeping repeats', () => {
    const res = new ResponseBuilder(200, ['Vary', 'Accept']);
    res.pushHeader('vary', 'Cookie').setHeader('X-A', '1').setHeader('x-a', '2');
    expect(res.headers).toEqual(['Vary', 'Accept', 'vary', 'Cookie', 'X-A', '2']);
    expect(res.header('VARY')).toBe('Accept');
    expect(() => res.setHeader('X-B', 'a\r\nSet-Cookie: evil=1')).toThrow(/without CR, LF or NUL/);
    expect(() => res.pushHeader('Bad Name', 'x')).toThrow(/is not a token/);
  });

  it('redirects with 302 by default, or the status given', () => {
    expect(new ResponseBuilder().redirect('/there').finalize()).toEqual([302, ['Location', '/there'], []]);
    const res = new ResponseBuilder().redirect('https://example.com/', 301);
    expect([res.status, res.location]).toEqual([301, 'https://example.com/']);
    expect(() => new ResponseBuilder().redirect('/x', 200)).toThrow(PlankError);
  });

  it('serialises cookies with their attributes, one Set-Cookie each, last setting wins', () => {
    const res = new ResponseBuilder();
    res.cookie('sid', 'a b;c', {
      path: '/',
      domain: 'example.com',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      maxAge: 3600.7,
    });
    res.cookie('gone', '', { expires: 0 });
    res.cookie('x', '1').cookie('x', '2', { partitioned: true, secure: true });
    expect(res.finalize()[1]).toEqual([
      'Set-Cookie',
      'sid=a%20b%3Bc; Domain=example.com; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Lax',
      'Set-Cookie',
      'gone=; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'Set-Cookie',
      'x=2; Secure; Partitioned',
    ]);
  });

  it('refuses cookie names and attributes that would break the header', () => {
    expect(() => new ResponseBuilder().cookie('a;b', '1')).toThrow(/the name must be a token/);
    expect(() => serializeCookie('a', '1', { path: '/; Domain=evil' })).toThrow(
      /Path must not contain control characters or ";"/,
    );
    expect(() => serializeCookie('a', '1', { expires: Number.NaN })).toThrow(/expires is not a valid date/);
    expect(() => serializeCookie('a', '1', { sameSite: 'lax' as never })).toThrow(/sameSite must be/);
  });

  it('refuses to finalize a status outside 100-999', () => {
    const res = new ResponseBuilder(42);
    expect(() => res.finalize()).toThrow(/integer from 100 to 999, got 42/);
  });

  it('produces a response that passes lint and reaches the client', async () => {
    await testApp(
      lint(() => {
        const res = new ResponseBuilder(201);
        res.contentType = 'text/plain; charset=utf-8';
        res.cookie('n', 'ü');
        res.body = 'créé';
        return res.finalize();
      }),
      async (request) => {
        const res = await request('/');
        expect(res.status).toBe(201);
        expect(res.text).toBe('créé');
        expect(res.headers['set-cookie']).toBe('n=%C3%BC');
      },
    );
  });
});
