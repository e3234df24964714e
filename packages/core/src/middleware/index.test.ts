import { describe, expect, it } from 'vitest';
import { builder, builtinMiddleware, resolveMiddleware } from '../index.js';
import type { Response } from '../index.js';
import { fakeEnv } from '../fake-env.fixture.js';

describe('the core middleware registry', () => {
  it('resolves every core middleware by its Plack name', () => {
    for (const name of ['ConditionalGET', 'ContentLength', 'Head', 'HTTPExceptions', 'Lint', 'Runtime', 'StackTrace']) {
      expect(resolveMiddleware(name)).toBe(builtinMiddleware[name]);
    }
  });

  it('builds a stack from names and options', async () => {
    const app = builder(({ enable }) => {
      enable('Lint');
      enable('StackTrace', { noPrintErrors: true });
      enable('HTTPExceptions');
      enable('ConditionalGET');
      enable('Head');
      enable('ContentLength');
      enable('Runtime', { headerName: 'X-T' });
      return () => [200, ['Content-Type', 'text/plain'], ['hi']];
    });
    const res = (await app(fakeEnv())) as Response;
    expect(res[1]).toEqual(expect.arrayContaining(['Content-Length', '2', 'X-T']));
  });

  it('names the middleware and the option when an option is unknown', () => {
    expect(() => builder(({ enable }) => void enable('Head', { verbose: true }))).toThrow(
      /enable\("Head"\): Head: unknown option "verbose"/,
    );
  });
});
