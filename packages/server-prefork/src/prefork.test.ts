import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type BoundHandle, createServerHandle } from '@plank/server-node';
import { socketRequester, until } from '@plank/test';
import { adopt, bin, fixtureApp, hooksApp, get, reap, run, startMaster, type Proc } from './helpers.fixture.js';
import type { WorkerInfo } from './protocol.js';

// plankup itself (built like every package before the tests run).
const plankup = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
let master: Proc | undefined;
afterEach(() => reap(master));

const pidOf = (body: string): number => Number(body.split(' ')[0]);

/** The local addresses of the sockets listening on `port`, from /proc/net/tcp and tcp6. */
function listeningSockets(port: number): string[] {
  const found: string[] = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local = '', , state] = line.trim().split(/\s+/);
      const [hex = '', portHex = ''] = local.split(':');
      if (state !== '0A' || Number.parseInt(portHex, 16) !== port) continue;
      // Each 32-bit word is in host (little-endian) order.
      const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) => (word.match(/../g) ?? []).reverse());
      const address = v6
        ? new URL(`http://[${(bytes.join('').match(/.{4}/g) ?? []).join(':')}]/`).hostname.slice(1, -1)
        : bytes.map((b) => Number.parseInt(b, 16)).join('.');
      found.push(address);
    }
  }
  return found;
}
const workersOf = async (url: string): Promise<WorkerInfo[]> =>
  JSON.parse((await get(`${url}workers`)).body) as WorkerInfo[];

describe('plank-prefork', () => {
  it('serves from every worker, and each worker sees the list of all live workers, idle ones included', async () => {
    const m = await startMaster(['--max-workers=3', fixtureApp]);
    master = m;
    await m.waitFor(/(ready \(slot \d, generation 1\)[\s\S]*){3}/);
    // The master tells workers about each other by message, so the worker that answers may
    // hear of the last one to start a moment after its "ready" line.
    const workers = await until(async () => {
      const list = await workersOf(m.url);
      return list.length === 3 && list.every((w) => w.state === 'ready') ? list : undefined;
    }, 'all three workers ready in the list');
    expect(workers.map((w) => w.slot).sort()).toEqual([1, 2, 3]);
    expect(workers.every((w) => w.state === 'ready' && w.generation === 1 && w.pid > 0)).toBe(true);
    const reply = await socketRequester(m.port)('/');
    expect(reply.status).toBe(200);
    expect(workers.map((w) => w.pid)).toContain(pidOf(reply.text));
    expect(m.child.pid).not.toBe(pidOf(reply.text));
    // The same list, for other processes, in the file PLANK_PREFORK_WORKERS names.
    const file = JSON.parse((await get(`${m.url}workers-file`)).body) as { master: number; workers: WorkerInfo[] };
    expect(file.master).toBe(m.child.pid);
    expect(file.workers.map((w) => w.pid).sort()).toEqual(workers.map((w) => w.pid).sort());
  });

  it('replaces a worker after --max-reqs-per-child requests: with one worker the pid changes every 3 requests', async () => {
    const m = await startMaster(['--max-workers=1', '--max-reqs-per-child=3', fixtureApp]);
    master = m;
    const pids: number[] = [];
    const closes: Array<string | undefined> = [];
    for (let i = 0; i < 9; i++) {
      const r = await get(m.url);
      pids.push(pidOf(r.body));
      closes.push(r.connection);
    }
    expect(new Set(pids.slice(0, 3)).size).toBe(1);
    expect(new Set(pids.slice(3, 6)).size).toBe(1);
    expect(new Set(pids.slice(6, 9)).size).toBe(1);
    expect(new Set([pids[0], pids[3], pids[6]]).size).toBe(3);
    // The last response of a worker tells the client not to come back on that connection.
    expect(closes[2]).toBe('close');
    expect(m.output()).toMatch(/retiring after 3 requests/);
  });

  it('retires a worker after the response when the app sets psgix.harakiri.commit', async () => {
    const m = await startMaster(['--max-workers=1', fixtureApp]);
    master = m;
    const first = await get(`${m.url}?harakiri=1`);
    expect(first.status).toBe(200);
    await m.waitFor(new RegExp(`worker ${pidOf(first.body)} retiring after harakiri`));
    const next = await get(m.url);
    expect(pidOf(next.body)).not.toBe(pidOf(first.body));
  });

  it('on TERM lets a slow request finish, then the master exits 0 and removes its pid file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const pidFile = join(dir, 'm.pid');
    const m = await startMaster(['--max-workers=2', `--pid-file=${pidFile}`, fixtureApp]);
    master = m;
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe(m.child.pid);
    const slow = get(`${m.url}?sleep=1500`);
    await new Promise((r) => setTimeout(r, 300));
    m.child.kill('SIGTERM');
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.connection).toBe('close');
    expect(await m.exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('replaces a worker that dies, reporting its error and the backoff when it died soon after starting', async () => {
    const m = await startMaster(['--max-workers=1', fixtureApp]);
    master = m;
    const first = await get(`${m.url}?crash=1`);
    await m.waitFor(/died [\d.]+ s after it started \(exit code 1\):\nError: fixture crash after the response/);
    await m.waitFor(/failure 1 in a row, next worker in 0.2 s/);
    const next = await until(async () => {
      const r = await get(m.url).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, 'an answer from the replacement');
    expect(pidOf(next.body)).not.toBe(pidOf(first.body));
  });

  it('runs onWorkerStart before a worker serves and onWorkerExit after its last request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const m = await startMaster(['--max-workers=1', hooksApp], { HOOK_DIR: dir });
    master = m;
    const pid = Number((await get(m.url)).body);
    expect(JSON.parse(readFileSync(join(dir, `start-${pid}`), 'utf8'))).toEqual({ pid, slot: 1, generation: 1 });
    expect(existsSync(join(dir, `exit-${pid}`))).toBe(false);
    m.child.kill('SIGTERM');
    expect(await m.exited).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, `exit-${pid}`), 'utf8'))).toEqual({ pid, slot: 1, generation: 1 });
  });

  it('adds a worker on TTIN and removes one on TTOU', async () => {
    const m = await startMaster(['--max-workers=1', fixtureApp]);
    master = m;
    m.child.kill('SIGTTIN');
    await until(async () => (await workersOf(m.url)).length === 2, 'two workers');
    m.child.kill('SIGTTOU');
    await until(async () => (await workersOf(m.url)).length === 1, 'one worker');
    expect(m.output()).toMatch(/workers 1 -> 2[\s\S]*workers 2 -> 1/);
  });

  it('on USR1 lets the workers go one by one, then the master exits 0', async () => {
    const m = await startMaster(['--max-workers=2', '--spawn-interval=0.2', fixtureApp]);
    master = m;
    await m.waitFor(/(ready \(slot \d, generation 1\)[\s\S]*){2}/);
    m.child.kill('SIGUSR1');
    expect(await m.exited).toBe(0);
    expect(m.output()).toMatch(/stopping workers one every 0.2 s/);
    expect(m.output().match(/stop \(USR1\)/g)).toHaveLength(2);
  });

  it('listens on a unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const socket = join(dir, 'app.sock');
    const m = run(process.execPath, [bin, `--socket=${socket}`, '--max-workers=1', fixtureApp]);
    master = m;
    await m.waitFor(/Plank: listening on unix:/);
    const { request } = await import('node:http');
    const body = await new Promise<string>((resolve, reject) => {
      request({ socketPath: socket, path: '/' }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toMatch(/^\d+ v1 1\n$/);
  });

  it('exits non-zero with the error in one line, after a few quiet tries, when no worker can ever start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'no database');
    const m = run(process.execPath, [bin, '--host=127.0.0.1', '--port=0', '--max-workers=1', fixtureApp], {
      FIXTURE_BROKEN: broken,
    });
    master = m;
    expect(await m.exited).toBe(1);
    // Nothing but the reason: no stack, no line per try (they show once a worker has run).
    expect(m.output()).toBe('prefork: no worker could start (3 tries): fixture app is broken: no database\n');
  });

  it('under plankup -s prefork, an app that throws at load is one line on stderr, and --debug adds the stack that points into the app', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'no database');
    const args = ['-s', 'prefork', '-o', '127.0.0.1', '-p', '0', '-E', 'deployment', '--max-workers=2', fixtureApp];
    const quiet = run(process.execPath, [plankup, ...args], { FIXTURE_BROKEN: broken });
    master = quiet;
    expect(await quiet.exited).toBe(1);
    expect(quiet.output()).toMatch(
      /^plankup: prefork: no worker could start \(3 tries\): cannot load \S+app\.mjs: fixture app is broken: no database\n$/,
    );
    const debug = run(process.execPath, [plankup, '--debug', ...args], { FIXTURE_BROKEN: broken });
    master = debug;
    expect(await debug.exited).toBe(1);
    expect(debug.output()).toMatch(
      /caused by: Error: fixture app is broken: no database\n\s+at file:\S+app\.mjs:\d+:\d+/,
    );
  });

  it('kills a worker that hangs while loading the app after --startup-timeout, and gives up after three tries in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const hang = join(dir, 'hang');
    writeFileSync(hang, '');
    const m = run(
      process.execPath,
      [bin, '--host=127.0.0.1', '--port=0', '--max-workers=1', '--startup-timeout=0.3', fixtureApp],
      { FIXTURE_HANG: hang },
    );
    master = m;
    expect(await m.exited).toBe(1);
    expect(m.output()).toBe(
      'prefork: no worker could start (3 tries): worker did not start within 0.3 s (startup-timeout); killed\n',
    );
  });

  it('under Server::Starter serves on the inherited descriptor, and gives up after one failure when the app cannot start', async () => {
    // Bound, not listening, never polled here: as start_server hands it over, minus listen().
    const create = createServerHandle;
    if (create === undefined) throw new Error('this Node has no net._createServerHandle');
    const held = create('127.0.0.1', 0, 4) as BoundHandle;
    const bound: { port?: number } = {};
    held.getsockname(bound);
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const broken = join(dir, 'broken');
    const env = {
      ...process.env,
      SERVER_STARTER_PORT: `127.0.0.1:${bound.port}=3`,
      SERVER_STARTER_GENERATION: '7',
      FIXTURE_BROKEN: broken,
    };
    const starter = (): Proc => {
      const child = spawn(process.execPath, [bin, '--port=1', '--max-workers=2', fixtureApp], {
        env,
        stdio: ['ignore', 'pipe', 'pipe', held.fd],
      });
      return adopt(child);
    };
    try {
      writeFileSync(broken, 'cannot connect to the database');
      const failing = starter();
      master = failing;
      expect(await failing.exited).toBe(1);
      expect(failing.output()).toMatch(/Server::Starter generation 7, inherited 127\.0\.0\.1:\d+=3/);
      expect(failing.output()).toMatch(
        /no worker could start \(1 try\): fixture app is broken: cannot connect to the database\n$/,
      );
      expect(failing.output()).not.toMatch(/next worker in/);

      unlinkSync(broken);
      const working = starter();
      master = working;
      await working.waitFor(/Plank: listening on http:\/\/127\.0\.0\.1:\d+\//);
      const reply = await get(`http://127.0.0.1:${bound.port}/`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatch(/^\d+ v1 [12]\n$/);
      working.child.kill('SIGTERM');
      expect(await working.exited).toBe(0);
    } finally {
      held.close();
    }
  });

  it('names exactly the address it bound, as the kernel lists it, and says when that is every interface', async () => {
    const wildcard = run(process.execPath, [bin, '--port=0', '--max-workers=1', fixtureApp]);
    master = wildcard;
    const [, port, words] = await wildcard.waitFor(/Plank: listening on http:\/\/\[::\]:(\d+)\/ (.*)/);
    expect(words).toBe('(every interface, IPv4 and IPv6)');
    expect(listeningSockets(Number(port))).toEqual(['::']);
    wildcard.child.kill('SIGTERM');
    await wildcard.exited;

    const loopback = await startMaster(['--max-workers=1', fixtureApp]);
    master = loopback;
    expect(loopback.output()).toContain(`Plank: listening on http://127.0.0.1:${loopback.port}/\n`);
    expect(listeningSockets(loopback.port)).toEqual(['127.0.0.1']);
  });

  it('exits non-zero naming the address when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const m = run(process.execPath, [bin, '--host=127.0.0.1', `--port=${port}`, '--max-workers=1', fixtureApp]);
      master = m;
      expect(await m.exited).toBe(1);
      expect(m.output()).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      taken.close();
    }
  });
});
