// The outputs read by the programs that consume them: promtool, a headless Chromium, and
// the plank-status command.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lint, type App } from '@plank/core';
import { listen, which } from '@plank/test';
import { serverStatusLite } from './index.js';
import { FLUSH_MS } from './state.js';

function run(
  command: string,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

const hello: App = () => [200, ['Content-Type', 'text/plain'], ['Hello']];
let dir: string;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-status-tools-'));
  const app = lint(
    serverStatusLite({
      path: '/server-status',
      allow: '127.0.0.1',
      scoreboard: join(dir, 'sb'),
      counterFile: join(dir, 'counter'),
    })(hello),
  );
  server = await listen(app);
  await fetch(new URL('/x', server.url));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const promtool = which('promtool');
describe.skipIf(!promtool && !process.env.CI)('the Prometheus page under promtool', () => {
  // promtool reads the Prometheus text format only; OpenMetrics is checked by the unit tests.
  it('passes promtool check metrics, lint included', async () => {
    const res = await fetch(new URL('/server-status?format=prometheus', server.url), {
      headers: { Accept: 'text/plain' },
    });
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const r = await run(promtool as string, ['check', 'metrics'], await res.text());
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: '' });
  });
});

const chromium = which('chromium');
describe.skipIf(!chromium && !process.env.CI)('the HTML page in a headless Chromium', () => {
  it('renders the summary, one grid square and one table row per worker', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'plank-chromium-'));
    try {
      const url = new URL('/server-status?format=html', server.url).href;
      const r = await run(
        chromium as string,
        [
          '--no-sandbox',
          '--headless',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          '--dump-dom',
          url,
        ],
        undefined,
        90_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const dom = r.stdout;
      expect(dom).toContain('<div id="grid" aria-label="workers"><span class="worker busy" title="pid');
      expect(dom.match(/<span class="worker /g)).toHaveLength(1);
      expect(dom.match(/<tr class="(busy|idle|starting)">/g)).toHaveLength(1);
      expect(dom).toContain('<meta http-equiv="refresh" content="5">');
      // The worker is busy with this very request.
      expect(dom).toContain('<td>GET</td><td>/server-status?format=html</td>');
      expect(dom).toMatch(/<dt>Total accesses<\/dt><dd>\d+<\/dd>/);
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('plank-status', () => {
  const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
  it('prints the worker lines of the status page from the directory, without HTTP', async () => {
    // Another process sees this worker's slot at most FLUSH_MS late.
    const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 2 * FLUSH_MS));
    await fetch(new URL('/y', server.url));
    const page = await (await fetch(new URL('/server-status', server.url))).text();
    await settled();
    const r = await run(process.execPath, [bin, '--scoreboard', join(dir, 'sb'), '--counter', join(dir, 'counter')]);
    expect(r.code, r.stderr).toBe(0);
    // Busy with the status request then, idle after it now; the rest is the same page minus Uptime.
    const now = await (await fetch(new URL('/server-status', server.url))).text();
    expect(page.split('\n').slice(0, 2).join('\n')).toMatch(/^ServerUptime: .*\nUptime: \d+$/);
    const lines = r.stdout.split('\n');
    const before = Number(/Total Accesses: (\d+)/.exec(page)?.[1]);
    expect(lines.slice(0, 7)).toEqual([
      `Total Accesses: ${before + 1}`,
      expect.stringMatching(/^Total kBytes: \d+$/),
      'BusyWorkers: 0',
      'IdleWorkers: 1',
      '--',
      'pid status remote_addr host method uri protocol ss',
      expect.stringMatching(
        new RegExp(
          `^${process.pid} _ 127\\.0\\.0\\.1 127\\.0\\.0\\.1:${server.port} GET /server-status HTTP/1\\.1 [01]$`,
        ),
      ),
    ]);
    expect(now).toContain(`Total Accesses: ${before + 1}`);
    await settled();
    const json = await run(process.execPath, [bin, '--scoreboard', join(dir, 'sb'), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      BusyWorkers: '0',
      IdleWorkers: '1',
      stats: [{ pid: process.pid, status: '_' }],
    });
  });

  it('explains what is wrong with its arguments', async () => {
    const none = await run(process.execPath, [bin]);
    expect([none.code, none.stderr.split('\n')[0]]).toEqual([2, 'plank-status: --scoreboard DIR is required']);
    const missing = await run(process.execPath, [bin, '--scoreboard', join(dir, 'nope')]);
    expect([missing.code, missing.stderr]).toEqual([
      1,
      `plank-status: no scoreboard directory at ${join(dir, 'nope')}\n`,
    ]);
  });

  it('refuses a directory others may write in one line, and reads a group-writable one with --group-writable', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    // staff: a group of its own, not the owner's private group.
    chownSync(shared, process.geteuid?.() ?? 0, 50);
    chmodSync(shared, 0o770);
    const refused = await run(process.execPath, [bin, '--scoreboard', shared]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^plank-status: scoreboard\\(\\): refusing the directory "${shared}" owned by uid \\d+ with mode 0770: [^\\n]+\\n$`,
      ),
    );
    const read = await run(process.execPath, [bin, '--scoreboard', shared, '--group-writable']);
    expect([read.code, read.stderr]).toEqual([0, '']);
    expect(read.stdout).toContain('BusyWorkers: 0\nIdleWorkers: 0\n');
  });

  it('reads the directory of another user (as an operator with sudo) and writes nothing to it', async () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const r = await run(process.execPath, [bin, '--scoreboard', theirs, '--counter', join(theirs, 'counter')]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^Total Accesses: 0\n/);
    expect(readdirSync(theirs)).toEqual([]);
  });
});
