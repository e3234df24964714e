// The hello app for prefork workers, bare (STATUS_MODE=bare), behind ServerStatus::Lite
// with a scoreboard and a counter file (STATUS_MODE=status), or behind a middleware that
// only registers a finish handler (STATUS_MODE=finish), for the
// middleware-server-status-lite workload. Loaded by `plankup -s prefork` in each worker.
import { tmpdir } from 'node:os';
import { builder } from '@plank/core';

const hello = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], ['Hello, World!']];
let app = builder(() => hello);
if (process.env.STATUS_MODE === 'finish') {
  // The server's part of the cost: a finish handler that does nothing.
  const { onFinish } = await import('@plank/core');
  app = builder(({ enable }) => {
    enable((inner) => (env) => (onFinish(env, () => {}), inner(env)));
    return hello;
  });
} else if (process.env.STATUS_MODE === 'status') {
  // Not a dependency of the bench package: load the built package by path.
  const { serverStatusLite } = await import('@plank/middleware-server-status-lite');
  // One directory per master: its workers share it, other runs do not.
  const dir = `${tmpdir()}/plank-bench-status-${process.ppid}`;
  app = builder(({ enable }) => {
    enable(
      serverStatusLite({
        path: '/server-status',
        allow: '127.0.0.1',
        scoreboard: `${dir}/sb`,
        counterFile: `${dir}/counter`,
      }),
    );
    return hello;
  });
}
export default app;
