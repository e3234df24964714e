import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builder, lint, type App, type PlankError } from '@plank/core';
import { testApp, type Requester, type TestResponse } from '@plank/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fileStore,
  memoryStore,
  session,
  type SessionOptions,
  type SessionOptionsEnv,
  type SessionStore,
} from './index.js';

const SECRET = 'first-secret-with-at-least-32-characters';
const OLD = 'older-secret-with-at-least-32-characters!';

// /count adds a visit; /login changes the id; /logout expires; /peek reads only.
const counter: App = (env) => {
  const s = env['psgix.session'] as { visits?: number };
  const opts = env['psgix.session.options'] as SessionOptionsEnv;
  if (env.PATH_INFO === '/count') s.visits = (s.visits ?? 0) + 1;
  if (env.PATH_INFO === '/login') opts.change_id = true;
  if (env.PATH_INFO === '/logout') opts.expire = true;
  return [200, ['Content-Type', 'text/plain'], [`${s.visits ?? 0} ${opts.id}`]];
};
const wrap = (options: SessionOptions, app: App = counter): App => lint(session(options)(lint(app)));
const cookieOf = (res: TestResponse): string | undefined =>
  res.rawHeaders.find((_, i) => i % 2 === 1 && res.rawHeaders[i - 1]?.toLowerCase() === 'set-cookie');
const pair = (setCookie: string | undefined): string => (setCookie ?? '').split(';')[0] as string;

async function visit(request: Requester, path: string, cookie?: string, init: { https?: boolean } = {}) {
  const headers: Record<string, string> = {};
  if (cookie) headers.Cookie = cookie;
  if (init.https) headers['X-Forwarded-Proto'] = 'https';
  return request(path, { headers });
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plank-session-'));
  chmodSync(dir, 0o700);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Session', () => {
  it('keeps data across requests through a signed cookie with HttpOnly, SameSite=Lax and Path=/', async () => {
    await testApp(wrap({ secrets: [SECRET] }), async (request) => {
      const first = await visit(request, '/count');
      const set = cookieOf(first);
      expect(set).toMatch(/^plank_session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(first.text).toMatch(/^1 /);
      const second = await visit(request, '/count', pair(set));
      expect(second.text).toMatch(/^2 /);
      expect(second.text.split(' ')[1]).toBe(first.text.split(' ')[1]);
      // Nothing changed the id or the key: no new cookie.
      expect(cookieOf(second)).toBeUndefined();
    });
  });

  it('does not save, nor set a cookie for, a new session that stays empty', async () => {
    const store = memoryStore();
    let sets = 0;
    const counting: SessionStore = { ...store, set: (...a) => void (sets++, store.set(...a)) };
    await testApp(wrap({ secrets: [SECRET], store: counting }), async (request) => {
      expect(cookieOf(await visit(request, '/peek'))).toBeUndefined();
    });
    expect(sets).toBe(0);
  });

  it('never adopts an id from the client: a forged signature or an unknown id starts a new session', async () => {
    await testApp(wrap({ secrets: [SECRET] }), async (request) => {
      const first = await visit(request, '/count');
      const [id] = pair(cookieOf(first)).split('=')[1]?.split('.') ?? [];
      const forged = await visit(request, '/count', `plank_session=${id}.AAAA`);
      expect(forged.text).toMatch(/^1 /);
      expect(forged.text.split(' ')[1]).not.toBe(id);
      // Correctly signed (the attacker knows a key, or replays an old cookie) but unknown to the store.
      const unknownId = 'A'.repeat(43);
      const { createHmac } = await import('node:crypto');
      const signed = `${unknownId}.${createHmac('sha256', SECRET).update(unknownId).digest('base64url')}`;
      const planted = await visit(request, '/count', `plank_session=${signed}`);
      expect(planted.text.split(' ')[1]).not.toBe(unknownId);
      expect(pair(cookieOf(planted))).not.toContain(unknownId);
    });
  });

  it('accepts a cookie signed with an older secret and signs it again with the current one', async () => {
    const store = memoryStore();
    let cookie = '';
    await testApp(wrap({ secrets: [OLD], store }), async (request) => {
      cookie = pair(cookieOf(await visit(request, '/count')));
    });
    await testApp(wrap({ secrets: [SECRET, OLD], store }), async (request) => {
      const res = await visit(request, '/count', cookie);
      expect(res.text).toMatch(/^2 /);
      const renewed = pair(cookieOf(res));
      expect(renewed.split('.')[0]).toBe(cookie.split('.')[0]);
      expect(renewed).not.toBe(cookie);
    });
    await testApp(wrap({ secrets: [SECRET], store }), async (request) => {
      // With the old key retired, the old cookie no longer opens the session.
      expect((await visit(request, '/count', cookie)).text).toMatch(/^1 /);
    });
  });

  it('gives the session a new id at change_id, keeping its data, and the old id stops working', async () => {
    await testApp(wrap({ secrets: [SECRET] }), async (request) => {
      const before = pair(cookieOf(await visit(request, '/count')));
      const login = await visit(request, '/login', before);
      const after = pair(cookieOf(login));
      expect(after.split('.')[0]).not.toBe(before.split('.')[0]);
      expect((await visit(request, '/count', after)).text).toMatch(/^2 /);
      expect((await visit(request, '/count', before)).text).toMatch(/^1 /);
    });
  });

  it('ends the session at expire: data removed and the cookie cleared', async () => {
    await testApp(wrap({ secrets: [SECRET] }), async (request) => {
      const cookie = pair(cookieOf(await visit(request, '/count')));
      const out = await visit(request, '/logout', cookie);
      expect(cookieOf(out)).toMatch(/^plank_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
      expect((await visit(request, '/count', cookie)).text).toMatch(/^1 /);
    });
  });

  it('marks the cookie Secure on https requests by default, and sends Max-Age when persistent', async () => {
    const app = builder(({ enable }) => {
      enable(
        (inner: App) => (env) =>
          inner({ ...env, 'psgi.url_scheme': env.HTTP_X_FORWARDED_PROTO === 'https' ? 'https' : 'http' }),
      );
      enable(session({ secrets: [SECRET], persistent: true, ttl: 3600, sameSite: 'Strict' }));
      return counter;
    });
    await testApp(lint(app), async (request) => {
      expect(cookieOf(await visit(request, '/count', undefined, { https: true }))).toMatch(
        /; Max-Age=3600; Secure; HttpOnly; SameSite=Strict$/,
      );
      expect(cookieOf(await visit(request, '/count'))).not.toMatch(/Secure/);
    });
  });

  it('waits for an async store before sending the body', async () => {
    const inner = memoryStore();
    const order: string[] = [];
    const slow: SessionStore = {
      get: async (id) => inner.get(id),
      set: async (id, data, ttl) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        inner.set(id, data, ttl);
        order.push('saved');
      },
      destroy: async (id) => inner.destroy(id),
    };
    const app: App = (env) => {
      (env['psgix.session'] as { n?: number }).n = 1;
      return [
        200,
        ['Content-Type', 'text/plain'],
        (async function* () {
          order.push('body');
          yield 'ok';
        })(),
      ];
    };
    await testApp(wrap({ secrets: [SECRET], store: slow }, app), async (request) => {
      expect((await request('/')).text).toBe('ok');
    });
    expect(order).toEqual(['saved', 'body']);
  });

  it('expires sessions in the memory store after ttl and drops the oldest past maxEntries', async () => {
    const store = memoryStore({ maxEntries: 2 });
    store.set('a', { v: 1 }, 60);
    store.set('b', { v: 2 }, 60);
    store.set('c', { v: 3 }, 60);
    expect(store.get('a')).toBeUndefined();
    expect(store.get('c')).toEqual({ v: 3 });
    store.set('d', { v: 4 }, 0);
    expect(store.get('d')).toBeUndefined();
    const data = { list: [1] };
    store.set('e', data, 60);
    data.list.push(2);
    expect(store.get('e')).toEqual({ list: [1] });
  });

  it('keeps sessions in files that survive a restart, written 0600, and refuses a directory others can write', async () => {
    let cookie = '';
    await testApp(wrap({ secrets: [SECRET], store: fileStore({ dir }) }), async (request) => {
      cookie = pair(cookieOf(await visit(request, '/count')));
    });
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0] as string)).mode & 0o777).toBe(0o600);
    // A new middleware and a new store over the same directory: the session is still there.
    await testApp(wrap({ secrets: [SECRET], store: fileStore({ dir }) }), async (request) => {
      expect((await visit(request, '/count', cookie)).text).toMatch(/^2 /);
    });
    const store = fileStore({ dir });
    store.set('B'.repeat(43), { x: 1 }, 0);
    expect(store.sweep()).toBe(1);
    expect(() => store.set('../escape', {}, 60)).toThrow(/refusing to write session id/);
    chmodSync(dir, 0o777);
    expect(() => fileStore({ dir })).toThrow(expect.objectContaining({ code: 'PLANK_ERR_SESSION_STORE' }));
    expect(() => fileStore({ dir: join(dir, 'missing') })).toThrow(/must be an existing directory/);
  });

  it('rejects bad options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /option "secrets" is required/],
      [
        { secrets: ['short'] },
        /option "secrets" must be a non-empty list of strings of at least 32 characters, got \["short"\]/,
      ],
      [{ secrets: [SECRET], store: {} }, /option "store" must be a store with get, set and destroy methods/],
      [{ secrets: [SECRET], sameSite: 'None', secure: false }, /"None" needs a Secure cookie/],
      [{ secrets: [SECRET], ttl: 0 }, /option "ttl" must be an integer >= 1, got 0/],
      [{ secrets: [SECRET], cookiename: 'x' }, /unknown option "cookiename" \(did you mean "cookieName"\?/],
    ];
    for (const [options, message] of bad) {
      try {
        session(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_SESSION_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its Plack name in enable()', async () => {
    const app = builder(
      ({ enable }) => {
        enable('Session', { secrets: [SECRET], cookieName: 'sid' });
        return counter;
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    await testApp(lint(app), async (request) => {
      expect(cookieOf(await visit(request, '/count'))).toMatch(/^sid=/);
    });
  });
});
