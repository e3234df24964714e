import { join } from 'node:path';
import { builder, lint, type App, type Env, type PlankError } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { authBasic, type AuthBasicOptions } from './index.js';

const whoami: App = (env) => [
  200,
  ['Content-Type', 'text/plain'],
  [String((env as Env & { REMOTE_USER?: string }).REMOTE_USER)],
];
const wrap = (options: AuthBasicOptions, app: App = whoami): App => lint(authBasic(options)(lint(app)));
const basic = (userPass: string | Buffer): string => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('Auth::Basic', () => {
  it('answers 401 with the realm, quoted and escaped, and charset UTF-8', async () => {
    await testApp(wrap({ users: { a: 'b' }, realm: 'the "admin" \\ area' }), async (request) => {
      const res = await request('/');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="the \\"admin\\" \\\\ area", charset="UTF-8"');
      expect(res.headers['content-type']).toBe('text/plain');
      expect(res.text).toBe('Authorization required');
    });
    await testApp(wrap({ users: { a: 'b' } }), async (request) => {
      expect((await request('/')).headers['www-authenticate']).toBe('Basic realm="restricted area", charset="UTF-8"');
    });
  });

  it('refuses wrong passwords, unknown users, other schemes and malformed credentials alike', async () => {
    await testApp(wrap({ users: { admin: 's3cr3t' } }), async (request) => {
      for (const authorization of [
        basic('admin:s3cr3x'),
        basic('admin:'),
        basic('nobody:s3cr3t'),
        basic('admin'),
        basic(''),
        'Bearer abc',
        'Basic',
        'Basic !!!!',
        `${basic('admin:s3cr3t')} extra`,
        basic(Buffer.from([0x61, 0x64, 0x6d, 0x69, 0x6e, 0x3a, 0xff])),
      ]) {
        const res = await request('/', { headers: { Authorization: authorization } });
        expect(res.status, authorization).toBe(401);
      }
      expect((await request('/', { headers: { Authorization: basic('admin:s3cr3t') } })).text).toBe('admin');
      // The scheme is case-insensitive (RFC 7617 §2).
      expect(
        (await request('/', { headers: { Authorization: `bAsIc ${basic('admin:s3cr3t').slice(6)}` } })).status,
      ).toBe(200);
    });
  });

  it('decodes UTF-8 names and passwords, and sets REMOTE_USER as the bytes sent', async () => {
    const seen: string[] = [];
    const authenticator = (user: string, password: string) => {
      seen.push(`${user}/${password}`);
      return user === 'jörg' && password === 'pässwörd';
    };
    await testApp(wrap({ authenticator }), async (request) => {
      const res = await request('/', { headers: { Authorization: basic('jörg:pässwörd') } });
      expect(res.status).toBe(200);
      expect(Buffer.from(res.text, 'utf8').toString('utf8')).toBe(Buffer.from('jörg', 'utf8').toString('latin1'));
    });
    expect(seen).toEqual(['jörg/pässwörd']);
  });

  it('awaits an async authenticator and calls an object authenticator, with env', async () => {
    const paths: string[] = [];
    const object = {
      async authenticate(user: string, password: string, env: Env) {
        paths.push(env.PATH_INFO);
        await new Promise((resolve) => setImmediate(resolve));
        return user === 'u' && password === 'p';
      },
    };
    await testApp(wrap({ authenticator: object }), async (request) => {
      expect((await request('/in', { headers: { Authorization: basic('u:p') } })).text).toBe('u');
      expect((await request('/out', { headers: { Authorization: basic('u:x') } })).status).toBe(401);
    });
    expect(paths).toEqual(['/in', '/out']);
  });

  it('does not call the app when refusing, and counts only a true verdict as success', async () => {
    let calls = 0;
    const app: App = () => {
      calls++;
      return [200, ['Content-Type', 'text/plain'], ['in']];
    };
    const truthy = (() => 'yes') as unknown as () => boolean;
    await testApp(wrap({ authenticator: truthy }, app), async (request) => {
      expect((await request('/', { headers: { Authorization: basic('a:b') } })).status).toBe(401);
    });
    expect(calls).toBe(0);
  });

  it('gives a 500, not a pass, when the authenticator throws', async () => {
    const errors: string[] = [];
    const failing = () => {
      throw new Error('ldap down');
    };
    await testApp(
      wrap({ authenticator: failing }),
      async (request) => {
        expect((await request('/', { headers: { Authorization: basic('a:b') } })).status).toBe(500);
      },
      { errors: { write: (s: string) => errors.push(s) } },
    );
    expect(errors.join('')).toMatch(/ldap down/);
  });

  it('rejects bad options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /give exactly one of the options "authenticator" and "users"/],
      [{ users: { a: 'b' }, authenticator: () => true }, /exactly one/],
      [
        { authenticator: 'admin:secret' },
        /option "authenticator" must be a function or an object with an authenticate\(\) method, got "admin:secret"/,
      ],
      [{ users: { a: 1 } }, /option "users"/],
      [{ users: { 'a:b': 'c' } }, /option "users"/],
      [{ users: { a: 'b' }, realm: 'a\nb' }, /option "realm" must be a string without control characters/],
      [{ users: { a: 'b' }, relm: 'x' }, /unknown option "relm" \(did you mean "realm"\?/],
    ];
    for (const [options, message] of bad) {
      try {
        authBasic(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_AUTH_BASIC_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it("resolves by its Plack name 'Auth::Basic' in enable()", async () => {
    const app = builder(
      ({ enable }) => {
        enable('Auth::Basic', { users: { a: 'b' }, realm: 'by name' });
        return whoami;
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    await testApp(lint(app), async (request) => {
      expect((await request('/')).headers['www-authenticate']).toMatch(/realm="by name"/);
      expect((await request('/', { headers: { Authorization: basic('a:b') } })).text).toBe('a');
    });
  });
});
