import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { socketRequester } from '@plank/test';
import { fixtureApp, get, reap, run, bin, startMaster, until, type Master, type Proc } from './helpers.fixture.js';
import type { WorkerInfo } from './protocol.js';

let master: Master | Proc | undefined;
afterEach(() => reap(master));

const pidOf = (body: string): number => Number(body.split(' ')[0]);
const workersOf = async (url: string): Promise<WorkerInfo[]> => JSON.parse((await get(`${url}workers`)).body) as WorkerInfo[];

describe('plank-prefork', () => {
  it('serves from every worker, and each worker sees the list of all live workers, idle ones included', async () => {
    master = await startMaster(['--max-workers=3', fixtureApp]);
    await master.waitFor(/(ready \(slot \d, generation 1\)[\s\S]*){3}/);
    const workers = await workersOf(master.url);
    expect(workers.map((w) => w.slot).sort()).toEqual([1, 2, 3]);
    expect(workers.every((w) => w.state === 'ready' && w.generation === 1 && w.pid > 0)).toBe(true);
    const reply = await socketRequester(master.port)('/');
    expect(reply.status).toBe(200);
    expect(workers.map((w) => w.pid)).toContain(pidOf(reply.text));
    expect(master.child.pid).not.toBe(pidOf(reply.text));
  });

  it('replaces a worker after --max-reqs-per-child requests: with one worker the pid changes every 3 requests', async () => {
    master = await startMaster(['--max-workers=1', '--max-reqs-per-child=3', fixtureApp]);
    const pids: number[] = [];
    const closes: Array<string | undefined> = [];
    for (let i = 0; i < 9; i++) {
      const r = await get(master.url);
      pids.push(pidOf(r.body));
      closes.push(r.connection);
    }
    expect(new Set(pids.slice(0, 3)).size).toBe(1);
    expect(new Set(pids.slice(3, 6)).size).toBe(1);
    expect(new Set(pids.slice(6, 9)).size).toBe(1);
    expect(new Set([pids[0], pids[3], pids[6]]).size).toBe(3);
    // The last response of a worker tells the client not to come back on that connection.
    expect(closes[2]).toBe('close');
    expect(master.output()).toMatch(/retiring after 3 requests/);
  });

  it('retires a worker after the response when the app sets psgix.harakiri.commit', async () => {
    master = await startMaster(['--max-workers=1', fixtureApp]);
    const first = await get(`${master.url}?harakiri=1`);
    expect(first.status).toBe(200);
    await master.waitFor(new RegExp(`worker ${pidOf(first.body)} retiring after harakiri`));
    const next = await get(master.url);
    expect(pidOf(next.body)).not.toBe(pidOf(first.body));
  });

  it('on TERM lets a slow request finish, then the master exits 0 and removes its pid file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const pidFile = join(dir, 'master.pid');
    master = await startMaster(['--max-workers=2', `--pid-file=${pidFile}`, fixtureApp]);
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe(master.child.pid);
    const slow = get(`${master.url}?sleep=1500`);
    await new Promise((r) => setTimeout(r, 300));
    master.child.kill('SIGTERM');
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.connection).toBe('close');
    expect(await master.exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('adds a worker on TTIN and removes one on TTOU', async () => {
    master = await startMaster(['--max-workers=1', fixtureApp]);
    master.child.kill('SIGTTIN');
    await until(async () => ((await workersOf(master!.url)).length === 2 ? true : undefined), 10_000, 'two workers');
    master.child.kill('SIGTTOU');
    await until(async () => ((await workersOf(master!.url)).length === 1 ? true : undefined), 10_000, 'one worker');
    expect(master.output()).toMatch(/workers 1 -> 2[\s\S]*workers 2 -> 1/);
  });

  it('on USR1 lets the workers go one by one, then the master exits 0', async () => {
    master = await startMaster(['--max-workers=2', '--spawn-interval=0.2', fixtureApp]);
    await master.waitFor(/(ready \(slot \d, generation 1\)[\s\S]*){2}/);
    master.child.kill('SIGUSR1');
    expect(await master.exited).toBe(0);
    expect(master.output()).toMatch(/stopping workers one every 0.2 s/);
    expect(master.output().match(/stop \(USR1\)/g)).toHaveLength(2);
  });

  it('listens on a unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const socket = join(dir, 'app.sock');
    master = run(process.execPath, [bin, `--socket=${socket}`, '--max-workers=1', fixtureApp]);
    await master.waitFor(/Plank: listening on unix:/);
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

  it('exits non-zero with the error, after a few tries, when no worker can ever start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'no database');
    master = run(process.execPath, [bin, '--host=127.0.0.1', '--port=0', '--max-workers=1', fixtureApp], { FIXTURE_BROKEN: broken });
    expect(await master.exited).toBe(1);
    expect(master.output()).toMatch(/no worker could start \(3 tries\): Error: fixture app is broken: no database/);
    // The cause once, then one line per retry showing the backoff.
    expect(master.output().match(/at file:/g)?.length).toBeGreaterThanOrEqual(1);
    expect(master.output()).toMatch(/failure 1 in a row, next worker in 0.2 s[\s\S]*failure 2 in a row, next worker in 0.4 s/);
  });

  it('exits non-zero naming the address when the port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      master = run(process.execPath, [bin, '--host=127.0.0.1', `--port=${port}`, '--max-workers=1', fixtureApp]);
      expect(await master.exited).toBe(1);
      expect(master.output()).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      taken.close();
    }
  });
});
