import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, until } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxPath, type Peer, plackParams, startNginx } from './peers.fixture.js';

// `plankup -s fcgi --nproc N`: FastCGI workers under the prefork master, behind a real nginx.
// plankup runs from this package's folder, where `@plank/server-fcgi` resolves to itself.
const here = new URL('..', import.meta.url).pathname;
const plankup = new URL('../../cli/bin/plankup.js', import.meta.url).pathname;

type Plankup = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function start(app: string, args: string[]): Plankup {
  const child = spawn(process.execPath, [plankup, '-s', 'fcgi', '-E', 'deployment', ...args, app], {
    cwd: here,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c));
  child.stderr?.on('data', (c: Buffer) => (text += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

describe.skipIf(!nginxPath && !process.env.CI)('FastCGI workers under the prefork master', () => {
  let dir = '';
  let nginx: Peer;
  let server: Plankup;

  beforeAll(async () => {
    dir = await mkdtemp(join(here, '.prefork-'));
    await writeFile(
      join(dir, 'app.mjs'),
      "export default (env) => [200, ['Content-Type', 'text/plain'], [process.pid + ' ' + env['psgi.multiprocess']]];\n",
    );
    const port = await freePort();
    server = start(join(dir, 'app.mjs'), ['--nproc', '2', '-l', `127.0.0.1:${port}`]);
    await until(() => /running 2 workers/.test(server.output()) || undefined, 'two workers', { timeout: 20_000 });
    nginx = await startNginx(`
    location / {
      fastcgi_pass 127.0.0.1:${port};
      fastcgi_keep_conn on;
      ${plackParams()}
    }`);
  });

  afterAll(async () => {
    await nginx?.stop();
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const get = async () => (await fetch(`http://127.0.0.1:${nginx.port}/`)).text();

  it('says fcgi:// where it listens, and serves from both workers as multiprocess', async () => {
    expect(server.output()).toMatch(/listening on fcgi:\/\/127\.0\.0\.1:\d+\//);
    const pids = new Set<string>();
    await until(
      async () => {
        const [pid, multiprocess] = (await get()).split(' ');
        expect(multiprocess).toBe('true');
        pids.add(pid as string);
        return pids.size === 2 || undefined;
      },
      'answers from two workers',
      { interval: 1 },
    );
  });

  it('restarts its workers on HUP under load through nginx with no failed request', async () => {
    const before = new Set((await Promise.all([get(), get(), get(), get()])).map((t) => t.split(' ')[0]));
    let failed = 0;
    let sent = 0;
    const failures: string[] = [];
    let running = true;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          sent++;
          const res = await fetch(`http://127.0.0.1:${nginx.port}/`).catch((e: Error) => e);
          const text = res instanceof Error ? res.message : await res.text();
          if (res instanceof Error || res.status !== 200) {
            failed++;
            failures.push(res instanceof Error ? text : `${res.status} ${text.slice(0, 80)}`);
          }
        }
      }),
    );
    server.child.kill('SIGHUP');
    await until(() => /generation 2/.test(server.output()) || undefined, 'the new generation', { timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    running = false;
    await load;
    expect(sent).toBeGreaterThan(20);
    expect({ failed, failures, log: failed ? await nginx.log() : '' }).toEqual({ failed: 0, failures: [], log: '' });
    const after = (await get()).split(' ')[0];
    expect(before.has(after)).toBe(false);
  });
});

describe('FastCGI workers that cannot start', () => {
  it('back off, then the master gives up with one line and a non-zero exit', async () => {
    const dir = await mkdtemp(join(here, '.prefork-'));
    try {
      await writeFile(join(dir, 'broken.mjs'), "throw new Error('no database');\n");
      const port = await freePort();
      const broken = start(join(dir, 'broken.mjs'), ['--nproc', '2', '-l', `127.0.0.1:${port}`]);
      const code = await Promise.race([
        broken.exited,
        new Promise((r) => setTimeout(() => r('still running'), 25_000)),
      ]);
      if (code === 'still running') broken.child.kill('SIGKILL');
      expect(code).not.toBe(0);
      expect(code).not.toBe('still running');
      expect(broken.output().trim().split('\n')).toEqual([expect.stringMatching(/no database/)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
