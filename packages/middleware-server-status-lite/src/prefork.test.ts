// The status page under `plankup -s prefork --max-workers=4`: real processes, real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const plankup = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('./fixtures/status-app.mjs', import.meta.url));
// plankup finds `-s prefork` from its working directory: run it where the package resolves.
const cwd = fileURLToPath(new URL('../../server-prefork/', import.meta.url));

type Stat = { pid: number; status?: string; method?: string; uri?: string; ss?: number; state: string };
type Doc = { TotalAccesses: string; BusyWorkers: string; IdleWorkers: string; stats: Stat[] };

let dir: string;
let master: ChildProcess;
let output = '';
let base: string;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** A GET; `fresh` opens a new connection, which any worker may accept. */
function get(path: string, fresh = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, fresh ? { agent: false } : { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

let statusRequests = 0;
async function status(): Promise<Doc> {
  statusRequests++;
  const res = await get('/server-status?json', true);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as Doc;
}

/** Reads the status page until `ok` holds (each read may land on any worker). */
async function until(what: string, ok: (d: Doc) => boolean, tries = 100): Promise<Doc> {
  let last: Doc | undefined;
  for (let i = 0; i < tries; i++) {
    last = await status();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`status page never showed ${what}; last:\n${JSON.stringify(last, null, 1)}\n${output}`);
}

function waitFor(pattern: RegExp, count = 1, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => (output.match(new RegExp(pattern, 'g')) ?? []).length >= count;
    if (check()) return resolve();
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${count}× ${pattern} in:\n${output}`)),
      timeoutMs,
    );
    const onData = (): void => {
      if (!check()) return;
      clearTimeout(timer);
      master.stdout?.off('data', onData);
      master.stderr?.off('data', onData);
      resolve();
    };
    master.stdout?.on('data', onData);
    master.stderr?.on('data', onData);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-status-prefork-'));
  master = spawn(
    process.execPath,
    [plankup, '-s', 'prefork', '--max-workers=4', '-o', '127.0.0.1', '-p', '0', '-E', 'deployment', app],
    {
      cwd,
      env: { ...process.env, STATUS_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const collect = (c: Buffer): void => {
    output += c.toString('utf8');
  };
  master.stdout?.on('data', collect);
  master.stderr?.on('data', collect);
  await waitFor(/worker \d+ ready/, 4);
  await waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\//);
  base = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1] as string;
}, 30_000);

afterAll(async () => {
  agent.destroy();
  if (master.exitCode === null) {
    const gone = new Promise((r) => master.once('exit', r));
    master.kill('SIGTERM');
    const timer = setTimeout(() => master.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}, 20_000);

describe('under plankup -s prefork --max-workers=4', () => {
  it('shows every worker from any worker, the slow request with a growing ss, and replaces a killed worker', async () => {
    const slow = get('/slow');
    slow.catch(() => {});
    const busyWith = (d: Doc, uri: string): Stat | undefined =>
      d.stats.find((s) => s.status === 'A' && s.method === 'GET' && s.uri === uri);
    // Served by another worker: that one shows itself busy with this status request.
    const seen = await until(
      '4 workers, one busy with GET /slow, from another worker',
      (d) =>
        d.stats.length === 4 && busyWith(d, '/slow') !== undefined && busyWith(d, '/server-status?json') !== undefined,
    );
    expect(Number(seen.BusyWorkers)).toBeGreaterThanOrEqual(1);
    // The master lists one generation, so no worker is retiring; those without a slot yet are starting.
    for (const s of seen.stats)
      expect(s.state).toBe(s.status === 'A' ? 'busy' : s.status === '_' ? 'idle' : 'starting');
    const slowPid = seen.stats.find((s) => s.uri === '/slow')?.pid;
    const ss0 = seen.stats.find((s) => s.uri === '/slow')?.ss as number;
    await new Promise((r) => setTimeout(r, 1100));
    await until('ss growing', (d) => (d.stats.find((s) => s.pid === slowPid && s.uri === '/slow')?.ss ?? -1) > ss0);

    const victim = seen.stats.find((s) => s.pid !== slowPid)?.pid as number;
    process.kill(victim, 'SIGKILL');
    const after = await until(
      'the killed worker gone and its replacement listed',
      (d) => d.stats.length === 4 && !d.stats.some((s) => s.pid === victim),
    );
    expect(after.stats.map((s) => s.pid)).toContain(slowPid);

    await writeFile(join(dir, 'release'), '');
    expect(await slow).toEqual({ status: 200, body: 'started\ndone\n' });
  });

  it('counts every request across workers and a HUP restart, plus the status requests themselves', async () => {
    // Idle first: a status request still in flight elsewhere would be counted later.
    const start = await until('all workers idle', (d) => d.BusyWorkers === '1');
    const startedAt = statusRequests - 1;
    const before = Number(start.TotalAccesses);
    const N = 400;
    let sent = 0;
    let hup = false;
    const client = async (): Promise<void> => {
      while (sent < N) {
        sent++;
        if (!hup && sent >= N / 2) {
          hup = true;
          master.kill('SIGHUP');
        }
        const res = await get(`/hello/${sent}`);
        expect(res.status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));
    await waitFor(/worker \d+ ready \(slot \d+, generation 2\)/, 4);
    await waitFor(/generation 1\) exited/, 4);
    // Status requests count too, once their response is out: every one since `start`
    // (included) has finished before the next one starts.
    const since = statusRequests;
    const end = await status();
    expect(Number(end.TotalAccesses)).toBe(before + N + (since - startedAt));
  });
});
