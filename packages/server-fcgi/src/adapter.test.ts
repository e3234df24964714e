import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServerContext } from '@plank/core';
import { freePort, until, which } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { plankServer } from './adapter.js';

const run = promisify(execFile);
const cgiFcgi = which('cgi-fcgi');
const dist = new URL('../dist/index.js', import.meta.url).pathname;

const context = (options: Record<string, string | boolean>): ServerContext => ({
  app: () => [200, [], ['ok']],
  source: undefined,
  listen: [{ host: '127.0.0.1', port: 0 }],
  options,
  log: () => {},
  errors: { write: () => true },
});

describe('plankup -s fcgi', () => {
  it('refuses an unknown option or a bad socket mode before binding, naming it', () => {
    expect(() => plankServer.validate?.(context({ 'socket-mod': '0660' }))).toThrow(/did you mean "socket-mode"/);
    expect(() => plankServer.validate?.(context({ 'socket-mode': 'rw' }))).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_SERVER_FCGI_OPTION',
        message: expect.stringContaining('"socket-mode"'),
      }),
    );
  });

  // cgi-fcgi -start is how spawn-fcgi and mod_fcgid start an app: it binds the socket and
  // runs the program with the listening socket as descriptor 0.
  describe.skipIf(!cgiFcgi && !process.env.CI)('started by cgi-fcgi with its socket on descriptor 0', () => {
    it('serves on descriptor 0 instead of its own address', async () => {
      if (!cgiFcgi) throw new Error('cgi-fcgi is not installed (CI installs it: apt-get install libfcgi-bin)');
      const dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-fd0-'));
      const port = await freePort();
      try {
        await writeFile(
          join(dir, 'app.mjs'),
          `import { writeFileSync } from 'node:fs';
import { plankServer } from ${JSON.stringify(dist)};
writeFileSync(${JSON.stringify(join(dir, 'pid'))}, String(process.pid));
await plankServer.run({
  app: (env) => [200, ['Content-Type', 'text/plain'], ['fd0 ' + env.PATH_INFO]],
  source: undefined,
  listen: [{ host: '127.0.0.1', port: 1 }],
  options: {},
  log: () => {},
  errors: process.stderr,
});
`,
        );
        await writeFile(join(dir, 'app.fcgi'), `#!/bin/sh\nexec ${process.execPath} ${join(dir, 'app.mjs')}\n`);
        await chmod(join(dir, 'app.fcgi'), 0o755);
        await run(cgiFcgi as string, ['-start', '-connect', `127.0.0.1:${port}`, join(dir, 'app.fcgi')]);
        const pid = Number(
          await until(() => readFile(join(dir, 'pid'), 'utf8').catch(() => undefined), 'the app to start'),
        );
        try {
          const out = await until(async () => {
            try {
              return (
                await run(cgiFcgi as string, ['-bind', '-connect', `127.0.0.1:${port}`], {
                  env: { REQUEST_METHOD: 'GET', REQUEST_URI: '/from/fd0', SCRIPT_NAME: '', PATH_INFO: '/from/fd0' },
                })
              ).stdout;
            } catch {
              return undefined;
            }
          }, 'an answer on descriptor 0');
          expect(out).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nfd0 /from/fd0');
        } finally {
          process.kill(pid, 'SIGKILL');
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
