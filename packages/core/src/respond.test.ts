import { describe, expect, it } from 'vitest';
import { json, lint, redirect } from './index.js';
import { testApp } from '@plank/test';

describe('json and redirect', () => {
  it('answers JSON in one call, with a status and extra headers when given', async () => {
    await testApp(
      lint((env) => (env.PATH_INFO === '/made' ? json({ id: 1 }, 201, ['Location', '/items/1']) : json([1, 'two']))),
      async (request) => {
        const plain = await request('/');
        expect([plain.status, plain.headers['content-type'], plain.text]).toEqual([
          200,
          'application/json; charset=utf-8',
          '[1,"two"]',
        ]);
        const made = await request('/made');
        expect([made.status, made.headers.location, JSON.parse(made.text)]).toEqual([201, '/items/1', { id: 1 }]);
      },
    );
  });

  it('redirects in one call, 302 unless told otherwise', async () => {
    await testApp(
      lint((env) => redirect('/there', env.PATH_INFO === '/moved' ? 301 : undefined)),
      async (request) => {
        const found = await request('/');
        expect([found.status, found.headers.location, found.text]).toEqual([302, '/there', 'Redirecting to /there']);
        expect((await request('/moved')).status).toBe(301);
      },
    );
  });

  it('refuses what cannot be a response, with PLANK_ERR_RESPONSE', () => {
    expect(() => json(undefined)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_RESPONSE' }));
    expect(() => redirect('/x', 200)).toThrow(expect.objectContaining({ code: 'PLANK_ERR_RESPONSE' }));
    expect(() => redirect('/x\r\nSet-Cookie: a=b')).toThrow(expect.objectContaining({ code: 'PLANK_ERR_RESPONSE' }));
  });
});
