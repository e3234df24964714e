import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { lint, stackTrace } from '../index.js';
import type { App, Response } from '../index.js';
import { fakeEnv } from '../fake-env.fixture.js';

function boom(): never {
  throw new Error('boom <b>&"\'', { cause: new TypeError('underneath') });
}

describe('StackTrace', () => {
  it('answers a throwing app with a 500 carrying the stack as text/plain, and logs it', async () => {
    const logged: string[] = [];
    const app = lint(stackTrace()(lint(() => boom())));
    const res = (await app(fakeEnv({ 'psgi.errors': { write: (s: string) => logged.push(s) } }))) as Response;
    expect(res[0]).toBe(500);
    expect(res[1]).toContain('text/plain; charset=utf-8');
    const text = Buffer.concat(res[2] as Buffer[]).toString();
    expect(text).toMatch(/^Error: boom <b>&"'\n\s+at boom/);
    expect(text).toMatch(/Caused by:\nTypeError: underneath/);
    expect(logged.join('')).toBe(`${text}\n`);
  });

  it('sends HTML, every special character escaped, when Accept prefers text/html', async () => {
    await testApp(lint(stackTrace({ noPrintErrors: true })(lint(async () => boom()))), async (request) => {
      const res = await request('/', { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<title>Error: boom &#60;b&#62;&#38;&#34;&#39;</title>');
      expect(res.text).not.toContain('<b>');
      const plain = await request('/', { headers: { Accept: 'text/plain, text/html;q=0.5' } });
      expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    });
  });

  it('catches a streaming response that fails before responding, and lets later failures through', async () => {
    const early = stackTrace({ noPrintErrors: true })(lint(() => async () => boom()));
    await testApp(early, async (request) => {
      expect((await request('/')).status).toBe(500);
    });
    const late: App = () => async (respond) => {
      respond([200, []]);
      boom();
    };
    const res = await stackTrace({ noPrintErrors: true })(late)(fakeEnv());
    await expect(
      (res as (r: unknown) => Promise<void>)(() => ({ write: async () => {}, close: async () => {} })),
    ).rejects.toThrow('boom');
  });

  it('does not write to psgi.errors with noPrintErrors, and shows non-Error values', async () => {
    const logged: string[] = [];
    const app = stackTrace({ noPrintErrors: true })(() => {
      throw 'just a string';
    });
    const res = (await app(fakeEnv({ 'psgi.errors': { write: (s: string) => logged.push(s) } }))) as Response;
    expect(Buffer.concat(res[2] as Buffer[]).toString()).toBe('thrown: "just a string"');
    expect(logged).toEqual([]);
  });

  it('passes a good response through untouched and synchronously', () => {
    const ok: Response = [200, [], ['ok']];
    expect(stackTrace()(() => ok)(fakeEnv())).toBe(ok);
  });

  it('rejects a non-boolean noPrintErrors when created', () => {
    expect(() => stackTrace({ noPrintErrors: 'yes' as never })).toThrow(
      'StackTrace: option "noPrintErrors" must be a boolean (or "true", "false", "1", "0"), got "yes"',
    );
  });
});
