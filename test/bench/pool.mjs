// The adaptive pool under load, with real processes (issue #17's acceptance; not a unit test):
//   node pool.mjs [--quick]
// 1. A CPU-bound burst (5 ms of synchronous work per request), concurrency 1 -> 16 -> 1, each
//    request a new connection (clients arriving; a keep-alive connection stays on the worker
//    that accepted it): an adaptive pool (2 to 8 workers, idle time 10 s) against a fixed pool
//    of 8 in the same run: failed requests, p99 per phase, total RSS, the growth steps.
// 2. An I/O-bound load: 300 concurrent requests that each wait 1 s, on an adaptive pool of 2 to 8.
// Each scenario's timeline (workers, busy, req/s, one sample a second from the master's workers
// file) is drawn with ServerStatus::Lite's timelineSvg into test/bench/pool-*.svg.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timelineSvg } from '@plank/middleware-server-status-lite';

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = fileURLToPath(new URL('../../packages/server-prefork/dist/bin.js', import.meta.url));
const app = join(here, 'servers/pool-app.mjs');
const quick = process.argv.includes('--quick');
const scale = quick ? 0.34 : 1;
// Masters still running when this script fails are stopped on the way out.
const masters = new Set();
process.on('exit', () => {
  for (const child of masters) child.kill('SIGTERM');
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startMaster(args) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pool-'));
  const file = join(dir, 'workers.json');
  const child = spawn(process.execPath, [bin, '--host=127.0.0.1', '--port=0', `--workers-file=${file}`, ...args, app], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  masters.add(child);
  child.once('exit', () => masters.delete(child));
  let log = '';
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const deadline = Date.now() + 30_000;
  while (!/listening on (http:\/\/127\.0\.0\.1:\d+)\//.test(log)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`master did not start:\n${log}`);
    await sleep(50);
  }
  const url = `${/listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(log)[1]}/`;
  const list = () => JSON.parse(readFileSync(file, 'utf8'));
  const rssKiB = (pid) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  // Every second: the total RSS of the master and its workers.
  const rss = [];
  const sampler = setInterval(() => {
    try {
      const l = list();
      rss.push([Date.now(), [child.pid, ...l.workers.map((w) => w.pid)].reduce((sum, pid) => sum + rssKiB(pid), 0)]);
    } catch {}
  }, 1000);
  return {
    url,
    list,
    log: () => log,
    rss,
    async stop() {
      clearInterval(sampler);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** One wrk phase; new connection per request unless keepAlive. Async: the samplers keep running. */
async function wrk(url, connections, seconds, keepAlive = false) {
  const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--latency', '--timeout', '10s'];
  if (!keepAlive) args.push('-H', 'Connection: close');
  const { stdout: out } = await promisify(execFile)('wrk', [...args, url], { encoding: 'utf8' });
  const num = (re) => Number(re.exec(out)?.[1] ?? 0);
  const ms = (re) => {
    const m = re.exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    connections,
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
    failed: (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + num(/Non-2xx or 3xx responses: (\d+)/),
  };
}

const steps = (log) => [...log.matchAll(/starting (\d+) more/g)].map((m) => Number(m[1]));
const mib = (kib) => Math.round(kib / 1024);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function cpuBurst(name, args, waitForShrink) {
  const m = await startMaster(args);
  const phases = [];
  let most = 0;
  const watch = setInterval(() => {
    try {
      most = Math.max(most, m.list().workers.filter((w) => w.state === 'ready').length);
    } catch {}
  }, 200);
  for (const [c, s] of [
    [1, 15],
    [16, 30],
    [1, 15],
  ]) {
    const from = Date.now();
    const phase = await wrk(`${m.url}spin`, c, s * scale);
    const during = m.rss.filter(([t]) => t >= from).map(([, kib]) => kib);
    phases.push({ ...phase, rss: mib(median(during)) });
  }
  let shrunk;
  if (waitForShrink) {
    // From the end of the last phase (the idle time may have begun in it already).
    const t0 = Date.now();
    while (Date.now() - t0 < 60_000) {
      if (m.list().workers.length <= 2) {
        shrunk = (Date.now() - t0) / 1000;
        break;
      }
      await sleep(500);
    }
    await sleep(2000);
  }
  clearInterval(watch);
  const l = m.list();
  await m.stop();
  return {
    name,
    phases,
    most,
    steps: steps(m.log()),
    shrunk,
    rssMax: mib(Math.max(...m.rss.map(([, kib]) => kib))),
    history: l.pool.history,
    events: l.pool.events,
    policy: l.pool.policy,
  };
}

async function ioLoad() {
  const m = await startMaster(['--max-workers=2', '--max-pool-size=8']);
  let most = 0;
  let inFlight = 0;
  const watch = setInterval(() => {
    try {
      const l = m.list();
      most = Math.max(most, l.workers.filter((w) => w.state !== 'retiring').length);
      inFlight = Math.max(
        inFlight,
        l.workers.reduce((n, w) => n + (w.inFlight ?? 0), 0),
      );
    } catch {}
  }, 200);
  await sleep(1500);
  const phase = await wrk(`${m.url}wait`, 300, 15 * scale, true);
  await sleep(1500);
  clearInterval(watch);
  const l = m.list();
  await m.stop();
  return { phase, most, inFlight, steps: steps(m.log()), history: l.pool.history, loads: l.workers.map((w) => w.load) };
}

const adaptiveArgs = ['--max-workers=2', '--max-pool-size=8', '--pool-idle-time=10'];
const adaptive = await cpuBurst('adaptive 2-8', adaptiveArgs, true);
const fixed = await cpuBurst('fixed 8', ['--max-workers=8'], false);
const io = await ioLoad();

const marks = (p) =>
  p
    ? [
        { value: p.floor, label: `floor ${p.floor}` },
        { value: p.max, label: `max ${p.max}` },
      ]
    : [];
writeFileSync(
  join(here, 'pool-cpu-adaptive.svg'),
  `${timelineSvg(adaptive.history, { title: 'CPU-bound burst, concurrency 1 → 16 → 1, adaptive pool 2–8', marks: marks(adaptive.policy) })}\n`,
);
writeFileSync(
  join(here, 'pool-cpu-fixed.svg'),
  `${timelineSvg(fixed.history, { title: 'CPU-bound burst, concurrency 1 → 16 → 1, fixed pool of 8' })}\n`,
);
writeFileSync(
  join(here, 'pool-io.svg'),
  `${timelineSvg(io.history, {
    title: 'I/O-bound: 300 concurrent 1 s requests, adaptive pool 2–8',
    marks: [
      { value: 2, label: 'floor 2' },
      { value: 8, label: 'max 8' },
    ],
  })}\n`,
);

const row = (r) =>
  `| ${r.name} | ${r.phases.map((p) => `${p.connections}: ${Math.round(p.rps)} req/s, p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, RSS ${p.rss} MiB`).join('<br>')} | ${r.phases.reduce((a, p) => a + p.failed, 0)} of ${r.phases.reduce((a, p) => a + p.requests, 0)} | ${r.most} | ${r.rssMax} |`;
console.log(`## Adaptive pool (${new Date().toISOString().slice(0, 10)}${quick ? ', --quick' : ''})

| pool | phases (connections: req/s, p50, p99, median total RSS of master and workers) | failed | most workers ready | peak total RSS MiB |
| --- | --- | --- | --- | --- |
${row(adaptive)}
${row(fixed)}

Adaptive growth steps: ${JSON.stringify(adaptive.steps)} (Apache's ramp allows 1, 2, 4, ...); back to the 2 it started with ${adaptive.shrunk === undefined ? 'not within 60 s' : `${adaptive.shrunk.toFixed(1)} s after the last phase ended`} (spare capacity above maxSpare for the idle time of 10 s, which may begin during the last phase at 1 connection, then one worker a second).
Retire events: ${adaptive.events.filter((e) => e.event === 'retire').length}.

I/O-bound, 300 connections on /wait (1 s timer), keep-alive: ${Math.round(io.phase.rps)} req/s, p99 ${io.phase.p99.toFixed(0)} ms, ${io.phase.failed} failed of ${io.phase.requests}; most workers ${io.most} (floor 2, max 8), growth steps ${JSON.stringify(io.steps)}, most requests in flight seen ${io.inFlight}, last loads ${JSON.stringify(io.loads)}.
`);
