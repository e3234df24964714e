import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const dist = (pkg: string): string => fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'plank-al-workers-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

// One worker: server-node on its own port, the access log on the shared time-named file.
const WORKER = `
import { serve } from ${JSON.stringify(dist('server-node'))};
import { accessLog } from ${JSON.stringify(dist('middleware-access-log'))};
const log = accessLog({ format: 'combined', file: process.env.LOG, rotate: '1s', keep: 100, symlink: true });
const handle = await serve(log(() => [200, ['Content-Type', 'text/plain'], ['ok']]), { host: '127.0.0.1', port: 0 });
process.send({ port: handle.port });
process.on('SIGTERM', async () => {
  await handle.close({ timeout: 5000 });
  await log.close();
  process.exit(0);
});
`;

function get(agent: Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('four workers appending to one rotating file', () => {
  it('log every request exactly once, as whole lines, across a rotation and a graceful stop', async () => {
    const script = join(tmp, 'worker.mjs');
    writeFileSync(script, WORKER);
    const template = join(tmp, 'logs', 'access.%DATE%.log');
    const ports = await Promise.all(
      [0, 1, 2, 3].map(
        (i) =>
          new Promise<number>((resolve, reject) => {
            const child = spawn(process.execPath, [script], {
              env: { ...process.env, LOG: template },
              stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            });
            children[i] = child;
            child.once('message', (m: { port: number }) => resolve(m.port));
            child.once('exit', (code) => reject(new Error(`worker ${i} exited with ${code}`)));
          }),
      ),
    );

    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const started = Date.now();
    let sent = 0;
    let ok = 0;
    // Load for a little over two seconds so at least two rotations (rotate: '1s') happen under it.
    const lane = async (w: number): Promise<void> => {
      while (Date.now() - started < 2300) {
        const id = sent++;
        if ((await get(agent, ports[w % 4] as number, `/w${w % 4}/r${id}?q="x"`)) === 200) ok++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => lane(w)));
    agent.destroy();
    // One worker, elected through the owner file, prunes and moves the symlink.
    const owner = Number(readFileSync(join(tmp, 'logs', '.access.DATE.log.owner'), 'utf8'));
    expect(children.map((c) => c.pid)).toContain(owner);

    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
    expect(children.map((c) => c.exitCode)).toEqual([0, 0, 0, 0]);

    const dir = join(tmp, 'logs');
    const files = readdirSync(dir)
      .filter((f) => /^access\.\d{4}-\d\d-\d\d-\d{6}\.log$/.test(f))
      .sort();
    expect(files.length).toBeGreaterThanOrEqual(2);
    const lines = files.flatMap((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      // A worker opens the current file when it starts, so the first one may be empty.
      if (text === '') return [];
      expect(text.endsWith('\n')).toBe(true);
      return text.slice(0, -1).split('\n');
    });
    const shape = /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/w[0-3]\/r(\d+)\?q=\\"x\\" HTTP\/1\.1" 200 2 "-" "-"$/;
    const ids = lines.map((l) => {
      const m = shape.exec(l);
      expect(m, l).not.toBeNull();
      return Number(m?.[1]);
    });
    expect(ok).toBe(sent);
    expect(lines.length).toBe(sent);
    expect(new Set(ids).size).toBe(sent);
    expect(readlinkSync(join(dir, 'access.log'))).toBe(files[files.length - 1]);
    console.log(`workers: ${sent} requests, ${lines.length} lines in ${files.length} files`);
  }, 30_000);
});
