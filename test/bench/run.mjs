#!/usr/bin/env node
// Runs Plank and its peers side by side, in one run, and prints ratios.
//   node test/bench/run.mjs [workload ...] [--duration=5] [--rounds=3] [--connections=50] [--record]
//                           [--minutes=N] [--match=REGEX] [--profile=DIR]
// Each workload (workloads/<name>.mjs) names servers and the ratios to report. Every server
// runs in its own child process; servers are loaded in turn (A B A B ...) so drift in the
// machine's speed hits all of them alike, and the median of the rounds is reported. With two
// or more cores the load generator (wrk) and the server are pinned to different cores.
// A workload with `paired: true` is measured two servers at once instead (see measurePair).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { which } from './peers.mjs';
import { profiled, summarize } from './profile.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
// --minutes=N is the long run that shows whether memory stays flat: each load lasts N minutes,
// one round unless --rounds says otherwise, and RSS is sampled every minute.
const minutes = Number(flag('minutes', '0'));
const duration = minutes > 0 ? minutes * 60 : Number(flag('duration', '5'));
// A workload may ask for more rounds (a goal of a few percent needs more samples); --rounds wins.
const roundsFlag = flag('rounds', minutes > 0 ? '1' : undefined);
const rounds = Number(roundsFlag ?? '3');
// --match=REGEX keeps the servers whose names match (and the ratios between two of them).
const match = new RegExp(flag('match', ''));
// --profile=DIR: node servers run with --cpu-prof into DIR, and their profiles are summed up.
const profileRoot = flag('profile', undefined);
const connections = Number(flag('connections', '50'));
const record = args.includes('--record');
const wanted = args.filter((a) => !a.startsWith('--'));

if (!which('wrk')) {
  console.error('bench: wrk is not installed (Debian: apt-get install wrk)');
  process.exit(1);
}
const pin = availableParallelism() >= 2 && which('taskset');
const pinned = (cpu, cmd) => (pin ? ['taskset', '-c', String(cpu), ...cmd] : cmd);

const all = readdirSync(`${here}workloads`)
  .filter((f) => f.endsWith('.mjs'))
  .map((f) => f.slice(0, -4));
const names = wanted.length ? wanted : all;
for (const n of names) if (!all.includes(n)) throw new Error(`bench: no workload ${n} (have: ${all.join(', ')})`);

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

const waitForPort = async (port, child, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before listening`);
    const ok = await new Promise((resolve) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not listen on ${port} within ${ms} ms`);
};

async function start(server) {
  const port = await freePort();
  const cmd = server.command.map((part) => part.replaceAll('{port}', String(port)));
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: server.cwd ?? here,
    env: { ...process.env, ...server.env, PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const s = { server, child, stderr: '', url: `http://127.0.0.1:${port}${server.path ?? '/'}` };
  child.stderr.on('data', (d) => (s.stderr += d));
  try {
    await waitForPort(port, child);
    const warm = await new Promise((resolve) => {
      const w = spawn('wrk', ['-t1', `-c${connections}`, '-d1s', ...(server.wrkArgs ?? []), s.url], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      w.stderr.on('data', (d) => (err += d));
      w.on('close', (status) => resolve({ status, stderr: err }));
    });
    if (warm.status !== 0) throw new Error(warm.stderr);
  } catch (err) {
    await stop(s);
    throw new Error(`${server.name}: ${err.message}\n${s.stderr}`);
  }
  return s;
}

async function stop(s) {
  const kill = (signal) => {
    try {
      process.kill(-s.child.pid, signal);
    } catch {}
  };
  if (!s.server.profileDir) return kill('SIGKILL');
  // A profiled server writes its profile when it exits: ask, then insist after 10 s.
  const exited = new Promise((resolve) => (s.child.exitCode !== null ? resolve() : s.child.once('exit', resolve)));
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Loads a started server with wrk on CPU 0 and resolves with its rate, latency and memory. */
function load(s) {
  const [bin, argv] = splitCmd(
    pinned(0, ['wrk', '-t1', `-c${connections}`, `-d${duration}s`, '--latency', ...(s.server.wrkArgs ?? []), s.url]),
  );
  // RSS of the whole server (master, workers, plackup's children) every minute of a long
  // run, and once more when the load ends.
  const rss = [];
  const sampler = minutes > 0 ? setInterval(() => rss.push(groupRss(s.child.pid)), 60_000) : undefined;
  return new Promise((resolve, reject) => {
    const wrk = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    wrk.stdout.on('data', (d) => (stdout += d));
    wrk.on('close', () => {
      clearInterval(sampler);
      rss.push(groupRss(s.child.pid));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(stdout)?.[0];
      if (!rps) reject(new Error(`${s.server.name}: wrk gave no rate:\n${stdout}\n${s.stderr}`));
      else resolve({ rps, errors, p50: percentile(stdout, '50'), p99: percentile(stdout, '99'), rss });
    });
  });
}

/** A latency percentile from wrk's --latency table, in milliseconds. */
function percentile(stdout, p) {
  const m = new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(stdout);
  if (!m) return Number.NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
}

/** Resident memory, in bytes, of every process in a server's process group (it was started detached). */
function groupRss(pgid) {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      // Fields after the parenthesised command name: state ppid pgrp ...
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // The process ended between readdir and read.
    }
  }
  return total;
}

async function measure(server) {
  const s = await start(server);
  try {
    return await load(s);
  } finally {
    await stop(s);
  }
}

// Both servers run at once on the same core, each loaded by its own wrk for the same
// seconds: the core's time is shared between them, so their rates compare their cost per
// request, and whatever slows the machine down in that interval slows both. Used where a
// goal is a few percent, below the drift between consecutive runs on a shared machine.
async function measurePair(a, b) {
  // Started, warmed and loaded together, so neither sits idle while the other starts.
  const started = await Promise.allSettled([start(a), start(b)]);
  try {
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return await Promise.all(started.map((r) => load(r.value)));
  } finally {
    await Promise.all(started.map((r) => r.status === 'fulfilled' && stop(r.value)));
  }
}
const splitCmd = (cmd) => [cmd[0], cmd.slice(1)];

/** A server as it is started: pinned to the server core, and profiled with --profile. */
function prepare(server) {
  const { command, dir } = profileRoot ? profiled(server, profileRoot) : { command: server.command, dir: undefined };
  return { ...server, command: pinned(1, command), profileDir: dir };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const versions = () => {
  const v = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  return `node ${process.version}, ${v('wrk --version 2>&1 | head -1').split(' [')[0]}, ${availableParallelism()} cores${pin ? ', pinned' : ''}`;
};

const lines = [];
const out = (s = '') => {
  console.log(s);
  lines.push(s);
};
out(`### ${new Date().toISOString().slice(0, 10)} — ${names.join(', ')}`);
const only = flag('match', undefined) === undefined ? '' : `, servers matching /${match.source}/`;
out(`${versions()}; wrk -t1 -c${connections}, ${duration}s x ${rounds} rounds, median req/s${only}`);
for (const w of names) {
  // Workloads may name the peers' versions (npm packages, Starlet) for the record.
  const peers = (await import(`${here}workloads/${w}.mjs`)).default.versions?.();
  if (peers) out(`${w} peers: ${peers}`);
}
out();
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
for (const name of names) {
  const workload = (await import(`${here}workloads/${name}.mjs`)).default;
  // Per server, one entry per round: { rps, p50, p99, rss }.
  const runs = new Map(workload.servers.map((s) => [s.name, []]));
  const notes = new Map();
  const pairRatios = new Map();
  const byName = new Map(workload.servers.map((s) => [s.name, s]));
  const usable = (s) => match.test(s.name) && (!s.available || s.available());
  const n = roundsFlag === undefined ? (workload.rounds ?? rounds) : rounds;
  if (n !== rounds) out(`${name}: ${n} rounds`);
  for (let r = 0; r < n; r++) {
    if (workload.paired) {
      for (const [a, b] of workload.ratios ?? []) {
        const [sa, sb] = [byName.get(a), byName.get(b)];
        if (!usable(sa) || !usable(sb)) continue;
        const first = r % 2 === 0 ? [sa, sb] : [sb, sa];
        const results = await measurePair(...first.map(prepare));
        const got = new Map([
          [first[0].name, results[0]],
          [first[1].name, results[1]],
        ]);
        const key = `${a}\0${b}`;
        if (!pairRatios.has(key)) pairRatios.set(key, []);
        pairRatios.get(key).push(got.get(a).rps / got.get(b).rps);
        for (const [k, v] of got) {
          runs.get(k).push(v);
          if (v.errors) notes.set(k, v.errors);
        }
        process.stderr.write(
          `  ${name} round ${r + 1}: ${a} ${got.get(a).rps.toFixed(0)} req/s with ${b} ${got.get(b).rps.toFixed(0)} req/s at once\n`,
        );
      }
      continue;
    }
    const order = r % 2 === 0 ? workload.servers : [...workload.servers].reverse();
    for (const server of order) {
      if (!usable(server)) continue;
      const result = await measure(prepare(server));
      runs.get(server.name).push(result);
      if (result.errors) notes.set(server.name, result.errors);
      process.stderr.write(`  ${name} round ${r + 1}: ${server.name} ${result.rps.toFixed(0)} req/s\n`);
    }
  }
  const measured = [...runs].filter(([, xs]) => xs.length);
  const med = new Map(measured.map(([k, xs]) => [k, median(xs.map((x) => x.rps))]));
  out(
    `| ${name}: server | req/s${workload.paired ? ' (two at once on one core)' : ''} | p50 ms | p99 ms | RSS at the end |`,
  );
  out('| --- | ---: | ---: | ---: | ---: |');
  for (const [k, xs] of measured) {
    const p50 = median(xs.map((x) => x.p50)).toFixed(2);
    const p99 = median(xs.map((x) => x.p99)).toFixed(2);
    // The largest end-of-run RSS over the rounds; a long run also shows each minute's sample.
    const rss = Math.max(...xs.map((x) => x.rss.at(-1)));
    const series = minutes > 0 ? ` (by minute: ${xs[0].rss.map(mib).join(', ')})` : '';
    out(
      `| ${k}${notes.has(k) ? ` (${notes.get(k)})` : ''} | ${med.get(k).toFixed(0)} | ${p50} | ${p99} | ${mib(rss)}${series} |`,
    );
  }
  out();
  for (const [a, b, goal] of workload.ratios ?? []) {
    if (!med.has(a) || !med.has(b)) continue;
    // Paired: the median of the ratios measured at the same moments.
    const ratio = workload.paired ? median(pairRatios.get(`${a}\0${b}`)) : med.get(a) / med.get(b);
    const spread = workload.paired
      ? ` (median of rounds: ${pairRatios
          .get(`${a}\0${b}`)
          .map((x) => x.toFixed(3))
          .join(', ')})`
      : '';
    out(
      `- ${a} / ${b} = **${ratio.toFixed(3)}x**${goal ? ` (goal >= ${goal}x: ${ratio >= goal ? 'met' : 'NOT met'})` : ''}${spread}`,
    );
  }
  out();
  // Printed, not recorded: a profile says where time goes, and RESULTS.md holds what it led to.
  for (const [k] of profileRoot ? measured : []) {
    const { dir } = profiled(byName.get(k), profileRoot);
    if (dir) console.log([`profile of ${k}:`, ...summarize(dir)].join('\n'), '\n');
  }
}
if (record) appendFileSync(`${here}RESULTS.md`, `\n${lines.join('\n')}\n`);
