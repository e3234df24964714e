import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { builder, lint, PlankError, type App } from '@plank/core';
import { testApp } from '@plank/test';
import { lameDuck } from '@plank/middleware-lame-duck';

const inner: App = (env) => [200, ['Content-Type', 'text/plain'], [`app saw ${env.PATH_INFO}\n`]];

function errorOf(fn: () => unknown): PlankError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlankError) return err;
    throw err;
  }
  throw new Error('expected a PlankError');
}

// Entering lame duck is one-way for the process, so the 503 side is tested with real
// processes and signals in signals.test.ts.
describe('LameDuck while the host serves', () => {
  test('the health path answers 200 OK with no caching, other paths reach the app', async () => {
    await testApp(lint(lameDuck()(lint(inner))), async (request) => {
      const health = await request('/health');
      expect(health.status).toBe(200);
      expect(health.text).toBe('OK\n');
      expect(health.headers['cache-control']).toBe('no-store');
      const page = await request('/healthz');
      expect(page.text).toBe('app saw /healthz\n');
    });
  });

  test('the path is configurable and HEAD answers too, without a body', async () => {
    await testApp(lint(lameDuck({ path: '/-/ready' })(inner)), async (request) => {
      expect((await request('/-/ready', { method: 'HEAD' })).status).toBe(200);
      expect((await request('/health')).text).toBe('app saw /health\n');
    });
  });

  test('other methods on the health path get 405 with Allow', async () => {
    await testApp(lint(lameDuck()(inner)), async (request) => {
      const res = await request('/health', { method: 'POST', body: 'x' });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    });
  });

  test('it is found by its Plack-style name in the builder', async () => {
    const app = builder(
      ({ enable }) => {
        enable('LameDuck', { path: '/up', seconds: '2' });
        return inner;
      },
      { resolveFrom: fileURLToPath(new URL('..', import.meta.url)) },
    );
    await testApp(app, async (request) => {
      expect((await request('/up')).text).toBe('OK\n');
    });
  });
});

describe('LameDuck options', () => {
  test('a path without a leading slash is refused at build time, naming the option and value', () => {
    const err = errorOf(() => lameDuck({ path: 'health' }));
    expect(err.code).toBe('PLANK_ERR_LAME_DUCK_OPTION');
    expect(err.message).toBe('LameDuck: option "path" must be a path starting with "/", got "health"');
  });

  test('negative seconds and misspelt options are refused with the same code', () => {
    expect(errorOf(() => lameDuck({ seconds: -1 })).message).toMatch(
      /option "seconds" must be a number of seconds >= 0, got -1/,
    );
    const typo = errorOf(() => lameDuck({ second: 5 } as never));
    expect(typo.code).toBe('PLANK_ERR_LAME_DUCK_OPTION');
    expect(typo.message).toMatch(/unknown option "second" \(did you mean "seconds"\?/);
  });
});
