// Cases of Plack-Middleware-Session's t/, re-expressed: 010_middleware.t (a counter kept
// across two requests) and 012_streaming.t (a streaming app, a file store, and late_store
// saving what the app changed while it wrote), over a real socket as the latter runs.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lint, type App } from '@plank/core';
import { testApp, type TestResponse } from '@plank/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileStore, session, type SessionOptionsEnv } from './index.js';

const SECRET = 'a-secret-for-the-plack-cases-32-chars+';
const cookieOf = (res: TestResponse): string => ((res.headers['set-cookie'] ?? '').split(';')[0] as string) || '';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plank-session-plack-'));
  chmodSync(dir, 0o700);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Plack-Middleware-Session t/ cases', () => {
  it('010_middleware.t: the counter reads 0, then 1 with the cookie of the first answer', async () => {
    const app: App = (env) => {
      const s = env['psgix.session'] as { counter?: number };
      const body = `Counter=${s.counter ?? 0}`;
      s.counter = (s.counter ?? 0) + 1;
      return [200, ['Content-Type', 'text/plain'], [body]];
    };
    await testApp(lint(session({ secrets: [SECRET] })(lint(app))), async (request) => {
      const first = await request('/');
      expect(first.text).toBe('Counter=0');
      expect((await request('/', { headers: { Cookie: cookieOf(first) } })).text).toBe('Counter=1');
    });
  });

  it('012_streaming.t: data changed after respond() is lost without late_store and kept with it', async () => {
    const app: App = (env) => async (respond) => {
      const s = env['psgix.session'] as { early?: number; late?: number };
      // From the second request on, ask for late storage.
      if (s.early) (env['psgix.session.options'] as SessionOptionsEnv).late_store = true;
      s.early = (s.early ?? 0) + 1;
      const writer = respond([200, ['Content-Type', 'text/html']]);
      await writer.write('Hello');
      s.late = (s.late ?? 0) + 1;
      await writer.close();
    };
    const saved = (id: string) => JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')).data;
    await testApp(
      lint(session({ secrets: [SECRET], store: fileStore({ dir }) })(lint(app))),
      async (request) => {
        const first = await request('/');
        expect(first.text).toBe('Hello');
        const cookie = cookieOf(first);
        expect(cookie).toMatch(/^plank_session=/);
        const id = cookie.split('=')[1]?.split('.')[0] as string;
        expect(saved(id)).toEqual({ early: 1 });
        const second = await request('/', { headers: { Cookie: cookie } });
        expect(second.text).toBe('Hello');
        expect(saved(id)).toEqual({ early: 2, late: 1 });
      },
      { mode: 'server' },
    );
  });
});
