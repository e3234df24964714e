import { PassThrough } from 'node:stream';
import type { Env } from './types.js';

// A minimal valid env for unit tests that call an app directly.
//
// Why core keeps this beside @plank/test's testEnv: not a dependency cycle (there is none:
// core's tests already import @plank/test as a devDependency, core's tsconfig builds without
// its tests and fixtures, and vitest resolves both packages to their sources). testEnv builds
// what a server builds for a request (Host, REMOTE_PORT, psgix.cleanup, plank.finish, ...),
// and it cannot build what core's tests need: exactly the keys SPEC.md requires, so lint's
// tests show that the minimum passes and that one bad or missing key fails; and envs no
// request produces (a mount point in SCRIPT_NAME, an empty PATH_INFO, a chosen psgi.input).
// Tests of a request's behaviour use testApp, which builds its env with testEnv.
export function fakeEnv(overrides: Partial<Env> | Record<string, unknown> = {}): Env {
  const input = new PassThrough();
  input.end();
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    REQUEST_URI: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    'psgi.version': [1, 1],
    'psgi.url_scheme': 'http',
    'psgi.input': input,
    'psgi.errors': { write: () => true },
    'psgi.multithread': false,
    'psgi.multiprocess': false,
    'psgi.run_once': false,
    'psgi.nonblocking': true,
    'psgi.streaming': true,
    ...overrides,
  } as Env;
}
