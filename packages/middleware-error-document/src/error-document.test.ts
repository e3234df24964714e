import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builder, lint, type App, type Env, type PlankError } from '@plank/core';
import { serveStatic } from '@plank/middleware-static';
import { testApp } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorDocument } from './index.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'plank-error-document-'));
  mkdirSync(join(root, 'errors'));
  writeFileSync(join(root, 'errors/500.html'), '<h1>fancy 500</h1>\n');
  writeFileSync(join(root, 'errors/404.html'), '<h1>fancy 404</h1>\n');
  writeFileSync(join(root, 'errors/401.txt'), 'who are you?\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Plack's test app: /status/NNN answers NNN, anything else 200.
const byStatus: App = (env) => {
  const status = Number(/status\/(\d+)/.exec(env.PATH_INFO)?.[1] ?? 200);
  return [status, ['Content-Type', 'text/plain'], [`Error: ${status}`]];
};

describe('ErrorDocument', () => {
  it("Plack's error_document.t: 500 from a file, 404 through a sub-request that Static answers, 200 untouched", async () => {
    const app = builder(({ enable }) => {
      enable(errorDocument({ 500: join(root, 'errors/500.html') }));
      enable(errorDocument({ 404: '/errors/404.html', subrequest: true }));
      enable(serveStatic({ path: /^\/errors/, root }));
      return byStatus;
    });
    await testApp(lint(app), async (request) => {
      expect((await request('/')).status).toBe(200);
      let res = await request('/status/500');
      expect(res.status).toBe(500);
      expect(res.text).toMatch(/fancy 500/);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-length']).toBe(String('<h1>fancy 500</h1>\n'.length));
      res = await request('/status/404');
      expect(res.status).toBe(404);
      expect(res.text).toMatch(/fancy 404/);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect((await request('/status/403')).text).toBe('Error: 403');
    });
  });

  it('keeps the headers that are not about the body, such as WWW-Authenticate and Set-Cookie', async () => {
    const app: App = () => [
      401,
      ['Content-Type', 'application/json', 'WWW-Authenticate', 'Basic realm="x"', 'Set-Cookie', 'a=1', 'ETag', '"e"'],
      ['{"error":"auth"}'],
    ];
    await testApp(lint(errorDocument({ 401: join(root, 'errors/401.txt') })(lint(app))), async (request) => {
      const res = await request('/');
      expect(res.status).toBe(401);
      expect(res.text).toBe('who are you?\n');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['www-authenticate']).toBe('Basic realm="x"');
      expect(res.headers['set-cookie']).toBe('a=1');
      expect(res.headers.etag).toBeUndefined();
    });
  });

  it('replaces the body of a streaming error response with the file', async () => {
    const streaming: App = () => async (respond) => {
      const writer = respond([500, ['Content-Type', 'text/plain']]);
      await writer.write('partial ');
      await writer.write('stack trace');
      await writer.close();
    };
    await testApp(lint(errorDocument({ 500: join(root, 'errors/500.html') })(lint(streaming))), async (request) => {
      const res = await request('/');
      expect(res.status).toBe(500);
      expect(res.text).toBe('<h1>fancy 500</h1>\n');
    });
  });

  it('sends the sub-request a GET without body or query, keeps the original in psgix.errordocument.*, and leaves the outer env alone', async () => {
    let seen: Env | undefined;
    let outer: Env | undefined;
    const app: App = (env) => {
      if (env.PATH_INFO === '/errors/404') {
        seen = env;
        return [200, ['Content-Type', 'text/plain'], [`not found: ${env['psgix.errordocument.PATH_INFO']}`]];
      }
      return [404, ['Content-Type', 'text/plain'], ['no']];
    };
    const stack = builder(({ enable }) => {
      enable((inner: App) => (env) => {
        outer = env;
        return inner(env);
      });
      enable(errorDocument({ 404: '/errors/404', subrequest: true }));
      return app;
    });
    await testApp(lint(stack), async (request) => {
      const res = await request('/missing?q=1', { method: 'POST', body: 'data' });
      expect(res.status).toBe(404);
      expect(res.text).toBe('not found: /missing');
    });
    expect(seen?.REQUEST_METHOD).toBe('GET');
    expect(seen?.QUERY_STRING).toBe('');
    expect(seen?.CONTENT_LENGTH).toBeUndefined();
    expect(seen?.['psgix.errordocument.REQUEST_METHOD']).toBe('POST');
    expect(seen?.['psgix.errordocument.QUERY_STRING']).toBe('q=1');
    expect(outer?.PATH_INFO).toBe('/missing');
    expect(outer?.REQUEST_METHOD).toBe('POST');
  });

  it('keeps the original response when the sub-request does not answer 200, and works with async apps', async () => {
    const app: App = async (env) =>
      env.PATH_INFO === '/errors/500'
        ? [503, ['Content-Type', 'text/plain'], ['error page down']]
        : [500, ['Content-Type', 'text/plain'], ['original']];
    await testApp(lint(errorDocument({ 500: '/errors/500', subrequest: true })(lint(app))), async (request) => {
      const res = await request('/');
      expect(res.status).toBe(500);
      expect(res.text).toBe('original');
    });
  });

  it('rejects bad options and missing files when created', () => {
    const bad: Array<[unknown, string, RegExp]> = [
      [{}, 'PLANK_ERR_ERROR_DOCUMENT_OPTION', /no error status is mapped/],
      [{ 302: '/x' }, 'PLANK_ERR_ERROR_DOCUMENT_OPTION', /status "302" is not an error status/],
      [{ 404: '' }, 'PLANK_ERR_ERROR_DOCUMENT_OPTION', /option "404" must be a non-empty path/],
      [{ 404: 'errors/404', subrequest: true }, 'PLANK_ERR_ERROR_DOCUMENT_OPTION', /starting with "\/"/],
      [{ 404: '/x', subrequest: 'yes' }, 'PLANK_ERR_ERROR_DOCUMENT_OPTION', /option "subrequest" must be a boolean/],
      [
        { 404: '/x', subrequst: true },
        'PLANK_ERR_ERROR_DOCUMENT_OPTION',
        /unknown option "subrequst" \(did you mean "subrequest"\?/,
      ],
      [
        { 404: '/nonexistent/404.html' },
        'PLANK_ERR_ERROR_DOCUMENT_FILE',
        /option "404" must be a readable regular file, got "\/nonexistent\/404.html"/,
      ],
      [{ 404: '/tmp' }, 'PLANK_ERR_ERROR_DOCUMENT_FILE', /not a regular file/],
    ];
    for (const [options, code, message] of bad) {
      try {
        errorDocument(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code, JSON.stringify(options)).toBe(code);
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its Plack name in enable(), with statuses at the top level', async () => {
    const app = builder(
      ({ enable }) => {
        enable('ErrorDocument', { 500: join(root, 'errors/500.html') });
        return byStatus;
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    await testApp(lint(app), async (request) => {
      expect((await request('/status/500')).text).toMatch(/fancy 500/);
    });
  });
});
