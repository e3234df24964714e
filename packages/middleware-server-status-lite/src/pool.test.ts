// The pool on the status page and in plank-status: a real `plankup -s prefork` with an
// adaptive pool that a CPU-bound load grows.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PoolStatus } from '@plank/scoreboard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusCommand } from './cli.js';
import { timelineSvg } from './chart.js';

const plankup = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('./fixtures/status-app.mjs', import.meta.url));
const cwd = fileURLToPath(new URL('../../server-prefork/', import.meta.url));

let dir: string;
let master: ChildProcess;
let output = '';
let base: string;

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false }, (res) => {
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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-status-pool-'));
  master = spawn(
    process.execPath,
    [
      plankup,
      '-s',
      'prefork',
      '--max-workers=1',
      '--max-pool-size=3',
      `--workers-file=${join(dir, 'workers.json')}`,
      '-o',
      '127.0.0.1',
      '-p',
      '0',
      '-E',
      'deployment',
      app,
    ],
    { cwd, env: { ...process.env, STATUS_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collect = (c: Buffer): void => {
    output += c.toString('utf8');
  };
  master.stdout?.on('data', collect);
  master.stderr?.on('data', collect);
  const deadline = Date.now() + 20_000;
  while (!/listening on (http:\/\/127\.0\.0\.1:\d+)\//.test(output)) {
    if (Date.now() > deadline || master.exitCode !== null) throw new Error(`plankup did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  base = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1] as string;
}, 30_000);

afterAll(async () => {
  if (master.exitCode === null) {
    const gone = new Promise((r) => master.once('exit', r));
    master.kill('SIGTERM');
    const timer = setTimeout(() => master.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}, 20_000);

describe('an adaptive prefork pool', () => {
  it('is on the status page (policy, loads, events, a timeline picture) and in plank-status', async () => {
    // A CPU-bound load on new connections until the pool has grown.
    let running = true;
    const clients = Array.from({ length: 6 }, async () => {
      while (running) expect((await get('/spin')).status).toBe(200);
    });
    const deadline = Date.now() + 20_000;
    let doc: { pool?: PoolStatus; stats: Array<{ load?: number; state: string }> } | undefined;
    while (Date.now() < deadline) {
      doc = JSON.parse((await get('/server-status?json')).body);
      if (doc?.pool?.events.some((e) => e.event === 'spawn' && /minSpare/.test(e.why))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    running = false;
    await Promise.all(clients);
    expect(doc?.pool?.policy).toEqual({
      floor: 1,
      max: 3,
      minSpare: 1,
      maxSpare: 2,
      idleTime: 300_000,
      maxSpawnRate: 32,
    });
    expect(doc?.pool?.events.filter((e) => /minSpare/.test(e.why)).length).toBeGreaterThan(0);
    expect(doc?.pool?.history.length).toBeGreaterThan(0);
    expect(doc?.stats.some((s) => typeof s.load === 'number' && s.load > 0.5)).toBe(true);

    const html = (await get('/server-status?format=html')).body;
    expect(html).toContain('<dd>adaptive: 1 to 3 workers</dd>');
    expect(html).toMatch(/<figure id="pool-timeline">\n<svg [^>]*role="img"/);
    expect(html).toMatch(
      /<tr class="spawn"><td>[^<]+<\/td><td>spawn<\/td><td>\d+<\/td><td>spare capacity below minSpare<\/td><\/tr>/,
    );

    const out: string[] = [];
    const code = await statusCommand(
      ['--scoreboard', join(dir, 'sb'), '--workers', join(dir, 'workers.json'), '--format', 'html'],
      { write: (s) => out.push(String(s)) },
      { write: (s) => out.push(s) },
    );
    expect(code).toBe(0);
    expect(out.join('')).toContain('<figure id="pool-timeline">');
    const text: string[] = [];
    await statusCommand(
      ['--scoreboard', join(dir, 'sb'), '--workers', join(dir, 'workers.json')],
      { write: (s) => text.push(Buffer.from(s as Uint8Array).toString('latin1')) },
      { write: (s) => text.push(s) },
    );
    expect(text.join('')).toMatch(
      /PoolFloor: 1\nPoolMax: 3\nPoolMinSpare: 1\nPoolMaxSpare: 2\nPoolSpare: [\d.]+\n--\n/,
    );
  }, 40_000);
});

describe('timelineSvg', () => {
  it('draws workers as steps, busy as an area and req/s on its own axis, with escaped labels', () => {
    const svg = timelineSvg(
      [
        { at: 0, workers: 1, busy: 0.5, rps: 100 },
        { at: 1000, workers: 3, busy: 2.5, rps: 200 },
      ],
      { width: 200, height: 100, title: 'a <b> run', marks: [{ value: 3, label: 'max 3' }] },
    );
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="200" height="100"/);
    expect(svg).toContain('a &#60;b&#62; run');
    // Two samples: the step goes across at 1 worker, then up to 3.
    expect(svg).toMatch(/<polyline points="44,[\d.]+ 144,([\d.]+) 144,[\d.]+" fill="none" stroke="#1c7ed6"/);
    expect(svg).toContain('>max 3</text>');
    expect(svg.endsWith('</svg>')).toBe(true);
  });
});
