// Plank's side of the full-stack workload: the demo's stack (apps/demo/app.ts, same options)
// in front of a hello app. AccessLog (`combined`, a daily file, 14 kept, a symlink to today's)
// > ReverseProxy (loopback trusted) > ServerStatus::Lite (scoreboard and counter file) >
// Static (`/static/`; every other path passes through to the app) > hello.
// Loaded by `workloads/full-stack.mjs serve plank` and by each prefork worker; it finds its
// directories in FULL_STACK_STATE (logs, scoreboard, counter) and FULL_STACK_ROOT (files).
import { join } from 'node:path';
import { builder } from '@plank/core';
import { accessLog } from '@plank/middleware-access-log';
import { reverseProxy } from '@plank/middleware-reverse-proxy';
import { serverStatusLite } from '@plank/middleware-server-status-lite';
import { serveStatic } from '@plank/middleware-static';

const state = process.env.FULL_STACK_STATE;
const root = process.env.FULL_STACK_ROOT;
if (!state || !root) throw new Error('full-stack-app: FULL_STACK_STATE and FULL_STACK_ROOT must be set');

const hello = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], ['Hello, World!']];

export default builder(({ enable }) => {
  enable(
    accessLog({
      format: 'combined',
      file: join(state, 'logs', 'access.%DATE%.log'),
      rotate: 'daily',
      keep: 14,
      symlink: join(state, 'logs', 'access.log'),
    }),
  );
  enable(reverseProxy({ trusted: ['loopback'] }));
  enable(
    serverStatusLite({
      path: '/server-status',
      allow: ['127.0.0.1', '::1'],
      scoreboard: join(state, 'scoreboard'),
      counterFile: join(state, 'counter'),
    }),
  );
  enable(serveStatic({ path: '/static/', root }));
  return hello;
});
