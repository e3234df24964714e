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

  it('rejects every bad option of a core middleware with PLANK_ERR_CORE_OPTION, suggesting a near name', () => {
    const cases: Array<[string, unknown, string]> = [
      ['StackTrace', { noPrintError: true }, 'unknown option "noPrintError" (did you mean "noPrintErrors"?'],
      ['StackTrace', { noPrintErrors: 'yes' }, 'option "noPrintErrors" must be a boolean'],
      ['HTTPExceptions', { rethrow: 2 }, 'option "rethrow" must be a boolean'],
      ['Runtime', { headername: 'X-T' }, 'unknown option "headername" (did you mean "headerName"?'],
      ['Lint', { strict: true }, 'unknown option "strict" (it takes no options)'],
      ['ConditionalGET', 'etag', 'options must be an object, got "etag"'],
    ];
    for (const [name, options, message] of cases) {
      expect(() => builder(({ enable }) => void enable(name, options))).toThrow(
        expect.objectContaining({ code: 'PLANK_ERR_CORE_OPTION', message: expect.stringContaining(message) }),
      );
    }
  });

  it('takes the boolean strings the command line passes, as plankup -M and --enable do', async () => {
    const app = builder(({ enable }) => {
      enable('StackTrace', { noPrintErrors: 'true' });
      return () => {
        throw new Error('boom');
      };
    });
    const errors: string[] = [];
    const res = (await app(fakeEnv({ 'psgi.errors': { write: (s: string) => errors.push(s) } }))) as Response;
    expect(res[0]).toBe(500);
    expect(errors).toEqual([]);
  });
});
