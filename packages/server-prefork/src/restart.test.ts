import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, until, which } from '@plank/test';
import { fixtureApp, get, load, reap, run, startMaster, type Proc } from './helpers.fixture.js';
import type { WorkerInfo } from './protocol.js';

let procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.map(reap));
  procs = [];
});

const workersOf = async (url: string): Promise<WorkerInfo[]> =>
  JSON.parse((await get(`${url}workers`)).body) as WorkerInfo[];

/** Sends HUP `times` times, each once the previous generation has fully gone; returns each generation's pids. */
async function restartUnderLoad(
  args: string[],
  times: number,
): Promise<{ generations: number[][]; failed: number; errors: string[]; ok: number }> {
  const master = await startMaster(['--max-workers=2', ...args, fixtureApp]);
  procs.push(master);
  const gen = async (g: number): Promise<number[]> =>
    until(
      async () => {
        const ws = await workersOf(master.url);
        return ws.length === 2 && ws.every((w) => w.generation === g && w.state === 'ready')
          ? ws.map((w) => w.pid)
          : undefined;
      },
      `generation ${g} alone`,
      { timeout: 15_000 },
    );
  const generations = [await gen(1)];
  const traffic = load(master.url, 4);
  for (let g = 2; g <= times + 1; g++) {
    master.child.kill('SIGHUP');
    generations.push(await gen(g));
  }
  const result = await traffic.stop();
  return { generations, ...result };
}

function expectAllReplaced(generations: number[][]): void {
  const all = generations.flat();
  expect(new Set(all).size).toBe(all.length);
}

describe('graceful restart under load', () => {
  it('HUP ten times: every worker is replaced each time and no request fails', async () => {
    const r = await restartUnderLoad([], 10);
    expect(r.generations).toHaveLength(11);
    expectAllReplaced(r.generations);
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    expect(r.ok).toBeGreaterThan(100);
  }, 90_000);

  it('HUP ten times with --spawn-interval=1 (rolling): every worker is replaced each time and no request fails', async () => {
    const r = await restartUnderLoad(['--spawn-interval=1'], 10);
    expectAllReplaced(r.generations);
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    expect(r.ok).toBeGreaterThan(100);
  }, 120_000);

  it('keeps the old workers serving while a broken new generation fails at start-up, with backoff and a quiet master', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const broken = join(dir, 'broken');
    const master = await startMaster(['--max-workers=1', fixtureApp], { FIXTURE_BROKEN: broken });
    procs.push(master);
    const before = (await get(master.url)).body;
    writeFileSync(broken, 'syntax error in the new release');
    master.child.kill('SIGHUP');
    await master.waitFor(/failed to start \(exit code 1\):\nError: fixture app is broken/);
    const { cpuSeconds, sleep } = await import('./helpers.fixture.js');
    const pid = master.child.pid as number;
    const cpu0 = cpuSeconds(pid);
    await sleep(30_000);
    const cpu = cpuSeconds(pid) - cpu0;
    expect(cpu).toBeLessThan(1);
    const out = master.output();
    // Doubling pauses, capped: 0.2 + 0.4 + ... + 6.4 + 10 s fit about 8 tries in 30 s, not hundreds.
    const tries = out.match(/failure \d+ in a row, next worker in [\d.]+ s/g) ?? [];
    expect(tries.length).toBeGreaterThanOrEqual(5);
    expect(tries.length).toBeLessThan(15);
    expect(out).toMatch(/next worker in 1.6 s[\s\S]*next worker in 3.2 s/);
    // The cause is printed once per streak.
    expect(out.match(/fixture app is broken/g)).toHaveLength(1);
    // The old generation still answers.
    expect((await get(master.url)).body).toBe(before);
  }, 60_000);
});

describe('a new generation that hangs while loading', () => {
  it('is killed after --startup-timeout and retried with backoff while the old workers serve, the master staying quiet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const hang = join(dir, 'hang');
    // Long enough for the first generation to start on a loaded machine.
    const master = await startMaster(['--max-workers=1', '--startup-timeout=2', fixtureApp], { FIXTURE_HANG: hang });
    procs.push(master);
    const before = (await get(master.url)).body;
    writeFileSync(hang, '');
    const { cpuSeconds } = await import('./helpers.fixture.js');
    const pid = master.child.pid as number;
    const cpu0 = cpuSeconds(pid);
    master.child.kill('SIGHUP');
    await master.waitFor(/failed to start \(signal SIGKILL\):\nError: did not start within 2 s \(startup-timeout\)/);
    // 2 s to start, then 0.2, 0.4, 0.8 s of backoff between tries.
    await master.waitFor(/failure 3 in a row, next worker in 0.8 s/, 20_000);
    expect(master.output()).toMatch(
      /failure 1 in a row, next worker in 0.2 s[\s\S]*failure 2 in a row, next worker in 0.4 s/,
    );
    expect(cpuSeconds(pid) - cpu0).toBeLessThan(1);
    // The old generation still answers, and is still the only one.
    expect((await get(master.url)).body).toBe(before);
    expect((await workersOf(master.url)).filter((w) => w.state === 'ready')).toHaveLength(1);
  }, 40_000);
});

const startServer = which('start_server');
// plankup itself (the lead's @plank/cli, built like every package before the tests run).
const plankup = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
describe.skipIf(!startServer && !process.env.CI)('under Server::Starter', () => {
  it('hot-deploys plankup -s prefork under start_server --signal-on-hup=USR1: new code after each HUP and no failed request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefork-'));
    const versionFile = join(dir, 'version');
    writeFileSync(versionFile, 'v1');
    const port = await freePort();
    const server = run(
      startServer ?? 'start_server',
      [
        `--port=127.0.0.1:${port}`,
        '--signal-on-hup=USR1',
        '--interval=1',
        '--',
        process.execPath,
        plankup,
        '-s',
        'prefork',
        '-E',
        'deployment',
        '--max-workers=2',
        fixtureApp,
      ],
      { FIXTURE_VERSION_FILE: versionFile },
    );
    procs.push(server);
    await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\//, 15_000);
    expect(server.output()).toMatch(/Server::Starter generation 1, inherited 127\.0\.0\.1:\d+=\d+/);
    const url = `http://127.0.0.1:${port}/`;
    const traffic = load(url, 4);
    const versions = ['v2', 'v3', 'v4'];
    for (const [i, version] of versions.entries()) {
      writeFileSync(versionFile, version);
      server.child.kill('SIGHUP');
      // start_server reports the old generation's master gone (USR1, slow stop, exit 0).
      await until(
        () => (server.output().match(/old worker \d+ died, status:0/g)?.length ?? 0) > i,
        `generation ${i + 1} gone`,
        { timeout: 20_000 },
      );
      const bodies = await Promise.all([1, 2, 3, 4, 5, 6].map(() => get(url).then((r) => r.body)));
      expect(bodies.every((b) => b.includes(` ${version} `))).toBe(true);
    }
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    server.child.kill('SIGTERM');
    await server.exited;
    expect(server.output().match(/master \d+ exiting \(0\)/g)?.length).toBe(4);
  }, 120_000);
});
