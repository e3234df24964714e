import { PassThrough } from 'node:stream';
import type { Env } from './types.js';

// A minimal valid env for unit tests that call an app directly.
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
