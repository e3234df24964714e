import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Env } from '@plank/core';
import { testEnv } from '@plank/test';

// What a middleware package (or an app) writes once to type the env key it sets.
declare module '@plank/core' {
  interface Env {
    'test.user'?: { id: string; name: string };
  }
}

describe('typed env extension keys (declaration merging)', () => {
  it('types a key declared by merging into Env, and still takes any other dotted key', () => {
    const user = (e: Env) => e['test.user'];
    const other = (e: Env) => e['other.key'];
    expectTypeOf(user).returns.toEqualTypeOf<{ id: string; name: string } | undefined>();
    expectTypeOf(other).returns.toEqualTypeOf<unknown>();
    const env: Env = testEnv('/');
    env['test.user'] = { id: '1', name: 'Ada' };
    expect(user(env)?.name).toBe('Ada');
    // @ts-expect-error: a declared key takes only its declared type
    env['test.user'] = 42;
    expect(env['test.user']).toBe(42);
  });
});
