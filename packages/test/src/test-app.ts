import type { App } from '@plank/core';
import { requestInProcess } from './in-process.js';
import { listen, socketRequester } from './socket.js';
import type { InProcessOptions } from './in-process.js';
import type { Requester, TestAppOptions, TestContext, TestMode } from './types.js';

/** The mode `testApp` uses when none is given: `PLANK_TEST_IMPL=Server` or `MockHTTP`, as Plack::Test reads it. */
export function defaultMode(): TestMode {
  const impl = (process.env.PLANK_TEST_IMPL ?? '').toLowerCase();
  return impl === 'server' ? 'server' : 'inprocess';
}

/**
 * Runs `client` against `app`, in-process (the default) or over a real socket through
 * `@plank/server-node` on 127.0.0.1. The same test passes in both modes; pick one with
 * `options.mode` or `PLANK_TEST_IMPL=Server|MockHTTP`. The server, if any, is closed when
 * `client` settles.
 *
 * @example
 * ```ts
 * import { testApp } from '@plank/test';
 * await testApp(() => [200, ['Content-Type', 'text/plain'], ['Hello']], async (request) => {
 *   const res = await request('/');
 *   console.assert(res.text === 'Hello');
 * });
 * ```
 */
export async function testApp(
  app: App,
  client: (request: Requester, ctx: TestContext) => Promise<void>,
  options: TestAppOptions & InProcessOptions = {},
): Promise<void> {
  const mode = options.mode ?? defaultMode();
  if (mode === 'inprocess') {
    const inProcess: InProcessOptions = options.errors ? { errors: options.errors } : {};
    const request: Requester = (path, init) => requestInProcess(app, path, init, inProcess);
    return client(request, { mode });
  }
  const handle = await listen(app, options.errors ? { errors: options.errors } : {});
  try {
    return await client(socketRequester(handle.port as number), { mode, url: handle.url, port: handle.port as number });
  } finally {
    await handle.close({ timeout: 1000 });
  }
}
