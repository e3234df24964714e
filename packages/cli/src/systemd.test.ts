import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlankError } from '@plank/core';
import { freePort, until, which } from '@plank/test';
import { afterEach, describe, expect, test } from 'vitest';
import { socketActivation } from './systemd.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('./fixtures/pid-app.mjs', import.meta.url));
const recorder = fileURLToPath(new URL('./fixtures/notify-recorder.py', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; out: () => string } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, out: () => out };
}

describe('socketActivation', () => {
  test('LISTEN_FDS for this process gives descriptors from 3 and removes the variables', () => {
    const env: Record<string, string | undefined> = { LISTEN_FDS: '2', LISTEN_PID: '42', LISTEN_FDNAMES: 'web:web' };
    expect(socketActivation(env, 42)).toEqual([{ fd: 3 }, { fd: 4 }]);
    expect(env).toEqual({});
  });

  test('descriptors meant for another process are left alone', () => {
    const env = { LISTEN_FDS: '1', LISTEN_PID: '41' };
    expect(socketActivation(env, 42)).toBeUndefined();
    expect(env.LISTEN_FDS).toBe('1');
    expect(socketActivation({}, 42)).toBeUndefined();
  });

  test('a LISTEN_FDS that is not a count is a start-up error naming the variable and value', () => {
    let err: unknown;
    try {
      socketActivation({ LISTEN_FDS: 'three', LISTEN_PID: '42' }, 42);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlankError);
    expect((err as PlankError).code).toBe('PLANK_ERR_CLI_SYSTEMD');
    expect((err as PlankError).message).toBe(
      'LISTEN_FDS: expected the number of passed sockets (1 or more), got "three"',
    );
  });
});

describe.skipIf(!which('systemd-socket-activate'))('plankup under systemd-socket-activate', () => {
  for (const server of [
    ['-s', 'node'],
    ['-s', 'prefork', '--max-workers=2'],
  ]) {
    test(`${server.join(' ')} serves on the socket systemd passed, ignoring -p`, async () => {
      const port = await freePort();
      const ignored = await freePort();
      const sa = run('systemd-socket-activate', [
        '-l',
        `127.0.0.1:${port}`,
        process.execPath,
        bin,
        '-p',
        String(ignored),
        ...server,
        app,
      ]);
      await until(() => sa.out().includes(`Listening on 127.0.0.1:${port}`), 'systemd-socket-activate to listen');
      // The first connection starts plankup; it waits in the queue until a worker accepts it.
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^pid \d+\n$/);
      expect(sa.out()).toContain('plankup: systemd socket activation: 1 socket(s) from fd 3 (-o/-p/-S/-l ignored)');
      await expect(fetch(`http://127.0.0.1:${ignored}/`)).rejects.toThrow();
      sa.child.kill('SIGTERM');
      await until(() => sa.child.exitCode !== null, `plankup to exit; it said:\n${sa.out()}`, { timeout: 20_000 });
      expect(sa.child.exitCode).toBe(0);
    });
  }
});

describe.skipIf(!which('python3') || !which('systemd-notify'))('sd_notify', () => {
  test('plankup -s prefork says READY=1 when listening, RELOADING=1 then READY=1 around a HUP, STOPPING=1 on TERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plank-notify-'));
    dirs.push(dir);
    const socket = join(dir, 'notify.sock');
    const rec = run('python3', [recorder, socket]);
    await until(() => rec.out().includes('listening'), 'the recorder');
    const port = await freePort();
    const host = run(
      process.execPath,
      [bin, '-o', '127.0.0.1', '-p', String(port), '-s', 'prefork', '--max-workers=2', app],
      {
        ...process.env,
        NOTIFY_SOCKET: socket,
      },
    );
    const pid = host.child.pid as number;
    const lines = (): string[] => rec.out().split('\n').slice(1).filter(Boolean);
    await until(() => lines().some((l) => l.includes('READY=1')), 'READY=1');
    expect(lines()[0]).toMatch(
      new RegExp(`^MAINPID=${pid} READY=1 STATUS=prefork server listening on http://127.0.0.1:${port}/\\s*$`),
    );
    host.child.kill('SIGHUP');
    await until(() => lines().filter((l) => l.includes('READY=1')).length === 2, 'READY=1 after the restart');
    expect(lines()[1]).toMatch(new RegExp(`^MAINPID=${pid} RELOADING=1 MONOTONIC_USEC=\\d+`));
    expect(lines()[2]).toMatch(new RegExp(`^MAINPID=${pid} READY=1 STATUS=generation 2 ready`));
    host.child.kill('SIGTERM');
    await until(() => host.child.exitCode !== null, 'plankup to exit');
    expect(host.child.exitCode).toBe(0);
    expect(lines()[3]).toMatch(new RegExp(`^MAINPID=${pid} STOPPING=1`));
  });
});
