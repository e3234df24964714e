#!/usr/bin/env node
// Runs Plank and its peers side by side, in one run, and prints ratios.
//   node test/bench/run.mjs [workload ...] [--duration=5] [--rounds=3] [--connections=50] [--record]
// Each workload (workloads/<name>.mjs) names servers and the ratios to report. Every server
// runs in its own child process; servers are loaded in turn (A B A B ...) so drift in the
// machine's speed hits all of them alike, and the median of the rounds is reported. With two
// or more cores the load generator (wrk) and the server are pinned to different cores.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const duration = Number(flag('duration', '5'));
const rounds = Number(flag('rounds', '3'));
const connections = Number(flag('connections', '50'));
const record = args.includes('--record');
const wanted = args.filter((a) => !a.startsWith('--'));

const which = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim();
if (!which('wrk')) {
  console.error('bench: wrk is not installed (Debian: apt-get install wrk)');
  process.exit(1);
}
const pin = availableParallelism() >= 2 && which('taskset');
const pinned = (cpu, cmd) => (pin ? ['taskset', '-c', String(cpu), ...cmd] : cmd);

const all = readdirSync(`${here}workloads`).filter((f) => f.endsWith('.mjs')).map((f) => f.slice(0, -4));
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

async function measure(server) {
  const port = await freePort();
  const cmd = server.command.map((part) => part.replaceAll('{port}', String(port)));
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: server.cwd ?? here,
    env: { ...process.env, ...server.env, PORT: String(port), NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await waitForPort(port, child);
    const url = `http://127.0.0.1:${port}${server.path ?? '/'}`;
    const warm = spawnSync('wrk', ['-t1', `-c${connections}`, '-d1s', ...(server.wrkArgs ?? []), url], { encoding: 'utf8' });
    if (warm.status !== 0) throw new Error(warm.stderr);
    const run = spawnSync(...splitCmd(pinned(0, ['wrk', '-t1', `-c${connections}`, `-d${duration}s`, '--latency', ...(server.wrkArgs ?? []), url])), { encoding: 'utf8' });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]);
    const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(run.stdout)?.[0];
    if (!rps) throw new Error(`wrk gave no rate:\n${run.stdout}${run.stderr}`);
    return { rps, errors };
  } catch (err) {
    throw new Error(`${server.name}: ${err.message}\n${stderr}`);
  } finally {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
}
const splitCmd = (cmd) => [cmd[0], cmd.slice(1)];

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
out(`${versions()}; wrk -t1 -c${connections}, ${duration}s x ${rounds} rounds, median req/s`);
out();
for (const name of names) {
  const workload = (await import(`${here}workloads/${name}.mjs`)).default;
  const rates = new Map(workload.servers.map((s) => [s.name, []]));
  const notes = new Map();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? workload.servers : [...workload.servers].reverse();
    for (const server of order) {
      if (server.available && !server.available()) continue;
      const { rps, errors } = await measure({ ...server, command: pinned(1, server.command) });
      rates.get(server.name).push(rps);
      if (errors) notes.set(server.name, errors);
      process.stderr.write(`  ${name} round ${r + 1}: ${server.name} ${rps.toFixed(0)} req/s\n`);
    }
  }
  const med = new Map([...rates].filter(([, xs]) => xs.length).map(([k, xs]) => [k, median(xs)]));
  out(`| ${name}: server | req/s |`);
  out('| --- | ---: |');
  for (const [k, v] of med) out(`| ${k}${notes.has(k) ? ` (${notes.get(k)})` : ''} | ${v.toFixed(0)} |`);
  out();
  for (const [a, b, goal] of workload.ratios ?? []) {
    if (!med.has(a) || !med.has(b)) continue;
    const ratio = med.get(a) / med.get(b);
    out(`- ${a} / ${b} = **${ratio.toFixed(3)}x**${goal ? ` (goal >= ${goal}x: ${ratio >= goal ? 'met' : 'NOT met'})` : ''}`);
  }
  out();
}
if (record) appendFileSync(`${here}RESULTS.md`, `\n${lines.join('\n')}\n`);
