// Plack's t/Plack-Middleware/auth_basic.t, re-expressed: no credentials is 401; a good
// user and password reach the app with REMOTE_USER set; a password may hold a colon.
import { builder, lint, type App, type Env } from '@plank/core';
import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { authBasic } from './index.js';

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('Plack::Middleware::Auth::Basic t/ cases', () => {
  it('401 without credentials; admin and john (whose password has a colon) get in as themselves', async () => {
    const map: Record<string, string> = { admin: 's3cr3t', john: 'foo:bar' };
    const hello: App = (env) => [
      200,
      ['Content-Type', 'text/plain'],
      [`Hello ${(env as Env & { REMOTE_USER: string }).REMOTE_USER}`],
    ];
    const app = builder(({ enable }) => {
      enable(authBasic({ authenticator: (user, password) => map[user] !== undefined && password === map[user] }));
      return lint(hello);
    });
    await testApp(lint(app), async (request) => {
      expect((await request('/')).status).toBe(401);
      // The encoded values are the ones Plack's test sends.
      expect(basic('admin:s3cr3t')).toBe('Basic YWRtaW46czNjcjN0');
      expect(basic('john:foo:bar')).toBe('Basic am9objpmb286YmFy');
      let res = await request('/', { headers: { Authorization: 'Basic YWRtaW46czNjcjN0' } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('Hello admin');
      res = await request('/', { headers: { Authorization: 'Basic am9objpmb286YmFy' } });
      expect(res.status).toBe(200);
      expect(res.text).toBe('Hello john');
    });
  });
});
