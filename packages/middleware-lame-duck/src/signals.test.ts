import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, until } from '@plank/test';
import { afterEach, describe, expect, test } from 'vitest';

// Real processes and signals: plankup (built) runs fixtures/app.mjs with LameDuck on /health.
const bin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('./fixtures/app.mjs', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

type Host = { child: ChildProcess; url: string; log: () => string; exited: Promise<number | null> };

async function plankup(args: string[]): Promise<Host> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, '-o', '127.0.0.1', '-p', String(port), ...args, app], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LAME_DUCK_SECONDS: '2' },
  });
  children.push(child);
  let log = '';
  child.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}/`;
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`plankup exited ${child.exitCode}: ${log}`);
    return (await get(url, 'health')).status === 200;
  }, 'the health endpoint');
  return { child, url, log: () => log, exited };
}

/** status 0: the connection was refused or reset. */
async function get(url: string, path = ''): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(`${url}${path}`, { headers: { connection: 'close' } });
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

/** Requests `/` and `/health` in turn until the host refuses; what each answered, in order. */
async function watch(url: string): Promise<{ health: number[]; pages: number[] }> {
  const health: number[] = [];
  const pages: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const h = await get(url, 'health');
    const p = await get(url);
    health.push(h.status);
    pages.push(p.status);
    if (h.status === 0 && p.status === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { health, pages };
}

describe('LameDuck with real signals', () => {
  test('plankup -s node: after TERM /health fails with 503 while pages are still served, then the server stops and exits 0', async () => {
    const host = await plankup(['-s', 'node']);
    host.child.kill('SIGTERM');
    // A signal is delivered asynchronously: wait for the first 503, then watch.
    await until(async () => (await get(host.url, 'health')).status === 503, '/health to fail');
    const seen = await watch(host.url);
    const firstRefused = seen.health.findIndex((h, i) => h === 0 || seen.pages[i] === 0);
    // Every page request before the host went away was served: nobody saw a refusal while /health said 503.
    expect(seen.pages.slice(0, firstRefused)).toEqual(seen.pages.slice(0, firstRefused).map(() => 200));
    expect(seen.pages.slice(0, firstRefused).length).toBeGreaterThan(1);
    expect(seen.health.slice(0, firstRefused)).toEqual(seen.health.slice(0, firstRefused).map(() => 503));
    expect(await host.exited).toBe(0);
    expect(host.log()).toContain('plankup: SIGTERM, lame duck for 2 s, then stopping gracefully');
  });

  test('plankup -s prefork: after TERM every worker answers 503 on /health while serving pages, then the master exits 0', async () => {
    const host = await plankup(['-s', 'prefork', '--max-workers=2']);
    host.child.kill('SIGTERM');
    // The master tells each worker over IPC after the signal: wait until four in a row say 503.
    let row = 0;
    await until(async () => {
      row = (await get(host.url, 'health')).status === 503 ? row + 1 : 0;
      return row >= 4;
    }, '/health to fail on every worker');
    const seen = await watch(host.url);
    const firstRefused = seen.health.findIndex((h, i) => h === 0 || seen.pages[i] === 0);
    expect(seen.health.slice(0, firstRefused)).toEqual(seen.health.slice(0, firstRefused).map(() => 503));
    expect(seen.pages.slice(0, firstRefused)).toEqual(seen.pages.slice(0, firstRefused).map(() => 200));
    expect(seen.pages.slice(0, firstRefused).length).toBeGreaterThan(1);
    expect(await host.exited).toBe(0);
    expect(host.log()).toContain('prefork: lame duck for 2 s before the stop');
  });

  test('plankup -s prefork: HUP makes /health fail, then new workers answer 200 again, and no page request fails', async () => {
    const host = await plankup(['-s', 'prefork', '--max-workers=2']);
    const before = new Set<string>();
    for (let i = 0; i < 6; i++) before.add((await get(host.url)).text);
    host.child.kill('SIGHUP');
    const health: number[] = [];
    const pages: number[] = [];
    await until(
      async () => {
        const h = await get(host.url, 'health');
        const p = await get(host.url);
        health.push(h.status);
        pages.push(p.status);
        return health.includes(503) && h.status === 200 && !before.has(p.text);
      },
      'a new generation answering 200 on /health',
      { timeout: 20_000 },
    );
    expect(health).toContain(503);
    expect(pages.every((s) => s === 200)).toBe(true);
    host.child.kill('SIGTERM');
    expect(await host.exited).toBe(0);
  });
});
