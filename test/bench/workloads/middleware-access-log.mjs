// AccessLog's overhead: the hello app with `combined` written to a rotating file, against the
// same app without logging (goal: ratio >= 0.95, i.e. at most 5% overhead, issue #16), and express with
// morgan's `combined` to a file against bare express (no goal: it is the yardstick; AccessLog's
// overhead should be the smaller of the two). express and morgan are resolved with require(),
// so they count as installed when test/bench depends on them or NODE_PATH points at them.
// This file is also its own server: `node workloads/middleware-access-log.mjs serve <kind> <dir>`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasPackage, requirePackage, isMain as startedAsServer } from '../peers.mjs';

const node = process.execPath;
const self = 'workloads/middleware-access-log.mjs';
const isMain = startedAsServer(import.meta.url);

let logs = '';
if (!isMain) {
  // Servers are killed, not stopped, so the runner removes what they wrote when it exits.
  logs = mkdtempSync(join(tmpdir(), 'plank-bench-access-log-'));
  process.on('exit', () => rmSync(logs, { recursive: true, force: true }));
}
const peers = () => hasPackage('express') && hasPackage('morgan');

export default {
  // Paired: sequential runs of the same two servers gave 0.78x, 0.85x and 0.93x on one day
  // (2026-11-21), a drift as large as the goal's margin.
  paired: true,
  rounds: 7,
  servers: [
    { name: 'hello', command: [node, self, 'serve', 'bare', logs] },
    { name: 'hello + AccessLog combined to a file', command: [node, self, 'serve', 'log', logs] },
    { name: 'express', command: [node, self, 'serve', 'express', logs], available: peers },
    { name: 'express + morgan combined to a file', command: [node, self, 'serve', 'morgan', logs], available: peers },
  ],
  ratios: [
    ['hello + AccessLog combined to a file', 'hello', 0.95],
    ['express + morgan combined to a file', 'express'],
  ],
};

if (isMain && process.argv[2] === 'serve') {
  const [kind, dir] = process.argv.slice(3);
  const port = Number(process.env.PORT);
  const body = 'Hello, World!';
  if (kind === 'express' || kind === 'morgan') {
    const express = requirePackage('express');
    const app = express();
    if (kind === 'morgan') {
      const morgan = requirePackage('morgan');
      const { createWriteStream } = await import('node:fs');
      app.use(
        morgan('combined', { stream: createWriteStream(join(dir, `morgan-${process.pid}.log`), { flags: 'a' }) }),
      );
    }
    app.get('/', (_req, res) => res.type('text/plain').send(body));
    app.listen(port, '127.0.0.1');
  } else {
    const { builder } = await import('@plank/core');
    const { serve } = await import('@plank/server-node');
    // Not a dependency of the bench package: load the built package by path.
    const { accessLog } = await import('@plank/middleware-access-log');
    const hello = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], [body]];
    const app = builder(({ enable }) => {
      if (kind === 'log')
        enable(accessLog({ format: 'combined', file: join(dir, `access-${process.pid}.%DATE%.log`), rotate: 'daily' }));
      return hello;
    });
    await serve(app, { host: '127.0.0.1', port });
  }
}
