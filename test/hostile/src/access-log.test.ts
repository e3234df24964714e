// The log writer under a hostile disk: full (a 64 KiB tmpfs), and a log directory taken
// away from the server's user (EACCES). Every request is answered, memory stays bounded,
// no line is torn or written twice, and each failure episode is one report plus one with
// the count of lines lost when writing works again.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accessLog } from '@plank/middleware-access-log';
import { serve } from '@plank/server-node';
import { until } from '@plank/test';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'plank-hostile-log-'));
// The unprivileged server below must reach its script and directory.
chmodSync(tmp, 0o755);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

type Report = Error & { code?: string; dropped?: number };

/** GETs every path over `concurrency` keep-alive connections; resolves with the statuses. */
async function load(port: number, paths: string[], concurrency = 8, headers: Record<string, string> = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses: number[] = [];
  let next = 0;
  const one = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) statuses.push(await one(paths[next++] as string));
    }),
  );
  agent.destroy();
  return statuses;
}

const ids = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `/req/${String(from + i).padStart(6, '0')}`);

describe('AccessLog on a full disk (a small tmpfs)', () => {
  let disk = '';
  let n = 0;
  const mount = (size: string): void => {
    disk = join(tmp, `disk${n++}`);
    mkdirSync(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', disk]);
  };
  afterEach(() => {
    execFileSync('umount', ['-l', disk]);
  });
  /** Fills the disk up, leaving `room` bytes (a whole number of 4 KiB pages) on an empty one. */
  const fill = (size: number, room: number): string => {
    const filler = join(disk, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(size - room));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
    return filler;
  };

  it('answers every request and, once the disk has room, holds each line once and whole', async () => {
    mount('64k');
    const errors: Report[] = [];
    const log = accessLog({ format: 'combined', file: join(disk, 'access.log'), onError: (e) => errors.push(e) });
    const server = await serve(
      log(() => [200, ['Content-Type', 'text/plain'], ['ok']]),
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const filler = fill(64 * 1024, 8 * 1024);
      // ~150-byte lines: the disk fills after some 50 of them, inside a batch.
      const full = await load(server.port as number, ids(0, 600));
      expect(full.every((s) => s === 200)).toBe(true);
      expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
      rmSync(filler);
      const after = await load(server.port as number, ids(600, 700));
      expect(after.every((s) => s === 200)).toBe(true);
      await until(() => errors.length === 2, 'the recovery report');
      await log.flush();
      const text = readFileSync(join(disk, 'access.log'), 'latin1');
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      const whole = /^127\.0\.0\.1 - - \[[^\]]+\] "GET (\/req\/\d{6}) HTTP\/1\.1" 200 2 "-" "-"$/;
      expect(lines.filter((l) => !whole.test(l))).toEqual([]);
      const logged = lines.map((l) => whole.exec(l)?.[1]).sort();
      expect(logged).toEqual(ids(0, 700));
      expect(errors[1]?.code).toBe('PLANK_ACCESS_LOG_RECOVERED');
      expect(errors[1]?.dropped).toBe(0);
    } finally {
      await server.close();
      await log.close();
    }
  });

  it('keeps at most its byte limit of waiting lines while the disk stays full, and counts what it dropped', async () => {
    // Room for the 4 MiB that waited, once the filler goes.
    mount('6m');
    const errors: Report[] = [];
    const log = accessLog({
      format: '%{X-Pad}i %U',
      file: join(disk, 'access.log'),
      onError: (e) => errors.push(e),
    });
    const server = await serve(
      log(() => [200, ['Content-Type', 'text/plain'], ['ok']]),
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const filler = fill(6 * 1024 * 1024, 0);
      // 8 KiB a line: 4 MiB of waiting lines is 511 of them; the rest are dropped.
      const pad = { 'X-Pad': 'p'.repeat(8 * 1024) };
      const statuses = await load(server.port as number, ids(0, 800), 8, pad);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
      rmSync(filler);
      await until(() => errors.length === 2, 'the recovery report');
      const lines = readFileSync(join(disk, 'access.log'), 'latin1').slice(0, -1).split('\n');
      const logged = new Set(lines.map((l) => l.split(' ')[1]));
      expect(logged.size).toBe(lines.length);
      expect(lines.length).toBeGreaterThan(400);
      expect(lines.length).toBeLessThan(520);
      expect(errors[1]?.code).toBe('PLANK_ACCESS_LOG_RECOVERED');
      expect(lines.length + (errors[1]?.dropped ?? 0)).toBe(800);
    } finally {
      await server.close();
      await log.close();
    }
  });
});

// A server that runs as an unprivileged user (root would bypass the permission check).
const dist = (pkg: string): string => fileURLToPath(new URL(`../../../packages/${pkg}/dist/index.js`, import.meta.url));
const WORKER = `
import { serve } from ${JSON.stringify(dist('server-node'))};
import { accessLog } from ${JSON.stringify(dist('middleware-access-log'))};
const log = accessLog({ format: '%U', file: process.env.LOG });
const handle = await serve(log(() => [200, ['Content-Type', 'text/plain'], ['ok']]), { host: '127.0.0.1', port: 0 });
process.send({ port: handle.port });
`;
const NOBODY = 65534;

describe('AccessLog when its directory is taken away (EACCES)', () => {
  it('reports the episode once, keeps the lines, and writes them when the directory is given back', async () => {
    const home = join(tmp, 'eacces');
    const logs = join(home, 'logs');
    mkdirSync(logs, { recursive: true });
    chownSync(logs, NOBODY, NOBODY);
    const script = join(home, 'worker.mjs');
    writeFileSync(script, WORKER);
    const child = spawn(process.execPath, [script], {
      uid: NOBODY,
      gid: NOBODY,
      env: { ...process.env, LOG: join(logs, 'access.log') },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
    });
    expect(await load(port, ids(0, 10))).toEqual(Array(10).fill(200));
    await until(() => readFileSync(join(logs, 'access.log'), 'latin1').split('\n').length === 11, 'the first lines');
    // Take the directory away and remove the file: the writer notices the file is gone
    // (within a second) and cannot make it again.
    chownSync(logs, 0, 0);
    rmSync(join(logs, 'access.log'));
    let k = 10;
    await until(
      async () => {
        await load(port, ids(k, k + 5));
        k += 5;
        return /EACCES/.test(stderr);
      },
      'the EACCES report',
      { interval: 100 },
    );
    const during = ids(k, k + 50);
    expect(await load(port, during)).toEqual(Array(50).fill(200));
    chownSync(logs, NOBODY, NOBODY);
    await until(() => /works again/.test(stderr), 'the recovery report');
    const logged = readFileSync(join(logs, 'access.log'), 'latin1').slice(0, -1).split('\n');
    // Every line of the episode was kept and written once.
    for (const id of during) expect(logged.filter((l) => l === id)).toEqual([id]);
    expect(new Set(logged).size).toBe(logged.length);
    const reports = stderr.trim().split('\n');
    expect(reports.length).toBe(2);
    expect(reports[0]).toMatch(/^accessLog: .*EACCES/);
    expect(reports[1]).toMatch(/^accessLog: writing to .*access\.log works again; 0 lines were dropped/);
    child.kill('SIGTERM');
  });
});
