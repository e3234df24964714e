// Memory and descriptors of a real server in a child process (the built dist), fed a
// 1 GiB file: it is sparse (truncate), so it costs no disk and reads at memory speed,
// which is exactly what would fill the server's memory if backpressure were missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTree } from './helpers.fixture.js';

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const serverDist = fileURLToPath(new URL('../../server-node/dist/index.js', import.meta.url));
const staticDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const childScript = `
const [serverDist, staticDist, root] = process.argv.slice(1);
const { serve } = await import(serverDist);
const { fileApp } = await import(staticDist);
const handle = await serve(fileApp({ root }), { host: '127.0.0.1', port: 0 });
process.stdout.write(handle.port + '\\n');
process.on('SIGTERM', () => handle.close({ timeout: 500 }).then(() => process.exit(0)));
`;

let tree: ReturnType<typeof makeTree>;
let child: ChildProcess;
let port: number;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) * 1024;
}
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function getBig(): Socket {
  const s = connect(port, '127.0.0.1');
  s.write('GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  return s;
}

// Connects, waits for the first body bytes, then drops the connection mid-download.
function abortedDownload(): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = getBig();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no response within 10 s'));
    }, 10_000);
    s.once('data', () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    });
    s.on('error', () => undefined);
  });
}

describe.skipIf(process.platform !== 'linux')('resources under load (server in a child process)', () => {
  beforeAll(async () => {
    tree = makeTree({ 'small.txt': 'ok' });
    writeFileSync(join(tree.root, 'big.bin'), '');
    truncateSync(join(tree.root, 'big.bin'), GiB);
    child = spawn(process.execPath, ['--input-type=module', '-e', childScript, serverDist, staticDist, tree.root], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server child did not start')), 10_000);
      child.stdout?.once('data', (d: Buffer) => {
        clearTimeout(timer);
        resolve(Number(d.toString().trim()));
      });
      child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
    });
    await abortedDownload(); // warm-up: lazily opened descriptors and JIT are in the baseline
  }, 20_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    tree?.cleanup();
  });

  it('keeps RSS growth under 32 MiB while slow clients read a 1 GiB file', async () => {
    const pid = child.pid as number;
    const before = rssBytes(pid);
    let peak = before;
    let received = 0;
    const clients = [getBig(), getBig(), getBig()];
    for (const c of clients) {
      c.on('error', () => undefined);
      c.on('data', (d: Buffer) => {
        received += d.length;
        // A slow reader: take one chunk, then stop reading for a while.
        c.pause();
        setTimeout(() => c.resume(), 50);
      });
    }
    for (let i = 0; i < 30; i++) {
      await sleep(100);
      peak = Math.max(peak, rssBytes(pid));
    }
    for (const c of clients) c.destroy();
    // The clients did read (so the server was streaming), yet held far less than the file.
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(GiB);
    expect(peak - before).toBeLessThan(32 * MiB);
  }, 30_000);

  it('returns to its descriptor count after 1000 aborted downloads', async () => {
    const pid = child.pid as number;
    const before = fdCount(pid);
    for (let batch = 0; batch < 50; batch++) await Promise.all(Array.from({ length: 20 }, abortedDownload));
    // Closing is asynchronous on the server side: wait (bounded) for it to settle.
    let after = fdCount(pid);
    for (let i = 0; i < 100 && after > before; i++) {
      await sleep(100);
      after = fdCount(pid);
    }
    expect(after).toBeLessThanOrEqual(before);
  }, 60_000);
});
