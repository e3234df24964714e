#!/usr/bin/env node
// The many-hosts lab (issue #19): network namespaces stand in for hosts on this machine.
//
//   client 198.18.0.10 ─┐
//   lb     198.18.0.2  ─┼─ bridge (in its own namespace) ── h1 .11, h2 .12, h3 .13
//                       └  nginx :80 → HAProxy 127.0.0.1:8081 (health checks on /health) → hosts :5000
//                          Prometheus 127.0.0.1:9090 scrapes every host's /server-status?format=prometheus
//
// Each host runs `plankup -s prefork --max-workers=2` with apps/demo. The lab measures a
// rolling restart (TERM and start; HUP), a kill -9 of one host, and a Prometheus total, then
// removes every namespace, veth and process it made, even on failure. Addresses come from
// 198.18.0.0/15 (RFC 2544); nothing leaves the lab's namespaces. Needs root, ip, nginx,
// haproxy, prometheus, promtool. Usage: node test/lab/lab.mjs [--seconds=240] [--json]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SECONDS = Number(arg('seconds', '240'));
const LAME_DUCK = 2; // s; HAProxy takes a host out after inter 500ms × fall 2 = 1 s
const NS = { sw: 'plab-sw', client: 'plab-c', lb: 'plab-lb', h1: 'plab-h1', h2: 'plab-h2', h3: 'plab-h3' };
const ADDR = { client: '198.18.0.10', lb: '198.18.0.2', h1: '198.18.0.11', h2: '198.18.0.12', h3: '198.18.0.13' };
const HOSTS = ['h1', 'h2', 'h3'];
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'plank-lab-'));
const procs = new Set();
const log = (line) => process.stderr.write(`lab: ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function cleanup() {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  removeNamespaces();
  rmSync(work, { recursive: true, force: true });
}

function removeNamespaces() {
  for (const ns of Object.values(NS)) {
    try {
      for (const pid of ip('netns', 'pids', ns).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // no such namespace
    }
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
}

function network() {
  removeNamespaces(); // a previous run killed hard may have left its namespaces
  ip('netns', 'add', NS.sw);
  ip('-n', NS.sw, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', NS.sw, 'link', 'set', 'br0', 'up');
  for (const name of ['client', 'lb', ...HOSTS]) {
    const ns = NS[name];
    ip('netns', 'add', ns);
    ip('link', 'add', `plab-v-${name}`, 'type', 'veth', 'peer', 'name', `plab-b-${name}`);
    ip('link', 'set', `plab-v-${name}`, 'netns', ns);
    ip('link', 'set', `plab-b-${name}`, 'netns', NS.sw);
    ip('-n', NS.sw, 'link', 'set', `plab-b-${name}`, 'master', 'br0', 'up');
    ip('-n', ns, 'addr', 'add', `${ADDR[name]}/24`, 'dev', `plab-v-${name}`);
    ip('-n', ns, 'link', 'set', `plab-v-${name}`, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
}

/** Starts `cmd` in namespace `ns`; `ip netns exec` execs, so the pid is the program's own. */
function run(ns, cmd, env = {}, stdin = 'ignore') {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], {
    env: { ...process.env, ...env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  procs.add(child);
  child.out = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.out += d));
  child.exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  return child;
}

async function until(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const hostProcs = {};
// Each host runs the demo through a one-line wrapper that stamps responses with the version in
// its folder's version.txt, read when a worker loads the app: so the HUP round can show that the
// new generation runs new code.
function hostApp(dir) {
  const file = join(dir, 'app.ts');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'version.txt'), '1\n');
    writeFileSync(
      file,
      `import { readFileSync } from 'node:fs';
import { responseCb } from ${JSON.stringify(join(root, 'packages/core/dist/index.js'))};
import demo from ${JSON.stringify(join(root, 'apps/demo/app.ts'))};
const version = readFileSync(new URL('./version.txt', import.meta.url), 'utf8').trim();
export default (env) => responseCb(demo(env), (res) => { res[1].push('X-App-Version', version); });
`,
    );
  }
  return file;
}

async function startHost(name) {
  const dir = join(work, name);
  const child = run(
    NS[name],
    [
      process.execPath,
      join(root, 'packages/cli/dist/bin.js'),
      '-s',
      'prefork',
      '--max-workers=2',
      '-E',
      'deployment',
      '-o',
      ADDR[name],
      '-p',
      '5000',
      hostApp(dir),
    ],
    {
      DEMO_LOG_DIR: join(dir, 'logs'),
      DEMO_STATE_DIR: join(dir, 'var'),
      DEMO_TRUSTED_PROXIES: `${ADDR.lb},loopback`,
      DEMO_STATUS_ALLOW: `${ADDR.lb},${ADDR.client},127.0.0.1`,
      DEMO_LAME_DUCK_SECONDS: String(LAME_DUCK),
    },
  );
  hostProcs[name] = child;
  await until(`${name} to listen`, () => {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${child.out}`);
    return child.out.includes('server listening on');
  });
  return child;
}

function configs() {
  const servers = HOSTS.map((h) => `  server ${h} ${ADDR[h]}:5000 check`).join('\n');
  writeFileSync(
    join(work, 'haproxy.cfg'),
    `global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch
  # A keep-alive connection the server closes just as HAProxy reuses it (a draining worker)
  # comes back empty: retry those, as for a refused connect. One run without this line lost
  # 1 request in ~100k during the HUP round.
  retry-on conn-failure empty-response response-timeout
frontend plank
  bind 127.0.0.1:8081
  option forwardfor
  default_backend hosts
backend hosts
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
${servers}
`,
  );
  writeFileSync(
    join(work, 'nginx.conf'),
    `daemon off;
user root;
worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  upstream haproxy { server 127.0.0.1:8081; keepalive 16; }
  server {
    listen ${ADDR.lb}:80;
    location / {
      proxy_pass http://haproxy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # A request the hosts never answered may go to the next; HAProxy already retries.
      proxy_next_upstream error timeout;
    }
  }
}
`,
  );
  const targets = HOSTS.map((h) => `'${ADDR[h]}:5000'`).join(', ');
  writeFileSync(
    join(work, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: plank
    metrics_path: /server-status
    params:
      format: [prometheus]
    static_configs:
      - targets: [${targets}]
`,
  );
}

async function promQuery(q, time = Date.now() / 1000) {
  const out = execFileSync('ip', [
    'netns',
    'exec',
    NS.lb,
    'curl',
    '-sf',
    '--data-urlencode',
    `query=${q}`,
    '--data-urlencode',
    `time=${time}`,
    'http://127.0.0.1:9090/api/v1/query',
  ]).toString();
  const r = JSON.parse(out).data.result;
  return r.length === 0 ? undefined : Number(r[0].value[1]);
}

function accessLines(name) {
  const dir = join(work, name, 'logs');
  return readdirSync(dir)
    .filter((f) => /^access\.\d/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
}

async function main() {
  const deadline = setTimeout(() => {
    log(`still running after --seconds=${SECONDS}; giving up`);
    cleanup();
    process.exit(1);
  }, SECONDS * 1000);
  network();
  configs();
  execFileSync('promtool', ['check', 'config', join(work, 'prometheus.yml')], { stdio: 'pipe' });
  log('promtool check config: SUCCESS');
  execFileSync('haproxy', ['-c', '-f', join(work, 'haproxy.cfg')], { stdio: 'pipe' });
  await Promise.all(HOSTS.map(startHost));
  const haproxy = run(NS.lb, ['haproxy', '-db', '-f', join(work, 'haproxy.cfg')]);
  const nginx = run(NS.lb, ['nginx', '-c', join(work, 'nginx.conf'), '-p', work]);
  const prom = run(NS.lb, [
    'prometheus',
    `--config.file=${join(work, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(work, 'prom')}`,
    '--web.listen-address=127.0.0.1:9090',
  ]);
  await until('nginx → HAProxy → hosts', () => {
    try {
      execFileSync('ip', ['netns', 'exec', NS.client, 'curl', '-sf', '-o', '/dev/null', `http://${ADDR.lb}/`]);
      return true;
    } catch {
      return false;
    }
  });
  await sleep(1500); // every server UP in HAProxy (rise 2 × 500 ms)
  const load = run(
    NS.client,
    [process.execPath, join(root, 'test/lab/load.mjs'), `http://${ADDR.lb}/`, '8'],
    {},
    'pipe',
  );
  // Each host's own count per phase, from its access log (lines still buffered in a worker
  // when the phase changes land in the next phase: ± those in flight).
  const gets = () =>
    Object.fromEntries(HOSTS.map((h) => [h, accessLines(h).filter((l) => l.includes('"GET / HTTP')).length]));
  const marks = [];
  const phase = (name) => {
    marks.push({ name, at: gets() });
    load.stdin.write(`phase ${name}\n`);
  };
  await sleep(2000);

  phase('rolling-term');
  for (const h of HOSTS) {
    hostProcs[h].kill('SIGTERM');
    await hostProcs[h].exited;
    await startHost(h);
    await sleep(1500); // HAProxy: rise 2 × inter 500 ms
  }
  phase('rolling-hup');
  for (const h of HOSTS) {
    // New code: the next generation's workers load version 2.
    writeFileSync(join(work, h, 'version.txt'), '2\n');
    hostProcs[h].kill('SIGHUP');
    await until(
      `${h} generation 2`,
      () => (hostProcs[h].out.match(/ready \(slot \d+, generation 2\)/g) ?? []).length >= 2,
    );
    await sleep(1500);
  }
  // Every host answers with the new code now (six requests cover three hosts round-robin).
  const versions = new Set();
  for (let i = 0; i < 6; i++) {
    const head = execFileSync('ip', ['netns', 'exec', NS.client, 'curl', '-sfI', `http://${ADDR.lb}/`]).toString();
    versions.add(/^x-app-version: (\S+)/im.exec(head)?.[1]);
  }
  const hupVersions = [...versions];
  phase('kill-9');
  const victim = 'h2';
  for (const pid of ip('netns', 'pids', NS[victim]).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
  await hostProcs[victim].exited;
  await sleep(3000);
  await startHost(victim);
  await sleep(1500);

  // A quiet moment, so the scraped totals before and after the measured run are exact.
  marks.push({ name: 'pause', at: gets() });
  load.stdin.write('pause\n');
  await sleep(2500);
  await until('Prometheus to have scraped every host', async () => {
    const n = await promQuery('count(up{job="plank"} == 1)');
    return n === 3;
  });
  const t1 = Math.floor(Date.now() / 1000);
  const promBefore = await promQuery('sum(plank_http_requests_total)', t1);
  phase('measured');
  await sleep(5000);
  load.stdin.write('end\n');
  const figures = JSON.parse(
    await until('the load generator', () =>
      load.out
        .trim()
        .split('\n')
        .find((l) => l.startsWith('{')),
    ),
  );
  await sleep(2500); // two scrapes after the last request
  const t2 = Math.floor(Date.now() / 1000);
  const promAfter = await promQuery('sum(plank_http_requests_total)', t2);
  // Prometheus's own scrapes of /server-status are requests too: count those between t1 and t2.
  const scrapes = await promQuery(`sum(count_over_time(up{job="plank"}[${t2 - t1}s]))`, t2);

  marks.push({ name: 'end', at: gets() });
  const perPhase = {};
  for (let i = 0; i + 1 < marks.length; i++)
    if (marks[i].name !== 'pause')
      perPhase[marks[i].name] = Object.fromEntries(HOSTS.map((h) => [h, marks[i + 1].at[h] - marks[i].at[h]]));

  // Client addresses through two hops: every generator line on every host says 198.18.0.10.
  const perHost = {};
  for (const h of HOSTS) {
    const lines = accessLines(h).filter((l) => l.includes('"GET / HTTP'));
    perHost[h] = { requests: lines.length, fromClient: lines.filter((l) => l.startsWith(`${ADDR.client} `)).length };
  }
  const status = execFileSync('ip', [
    'netns',
    'exec',
    NS.client,
    'curl',
    '-sf',
    `http://${ADDR.lb}/server-status`,
  ]).toString();
  const result = {
    seconds: Math.round((Date.now() - started) / 100) / 10,
    phases: figures,
    perHost,
    perPhase,
    statusShowsClient: status.includes(ADDR.client),
    hupVersions,
    prometheus: {
      query: 'sum(plank_http_requests_total) at t2 − at t1, − sum(count_over_time(up{job="plank"}[t2−t1]))',
      before: promBefore,
      after: promAfter,
      scrapes,
      total: promAfter - promBefore - scrapes,
      generator: figures.measured?.sent,
    },
  };
  clearTimeout(deadline);
  for (const p of [haproxy, nginx, prom]) p.kill('SIGTERM');
  return result;
}

try {
  const result = await main();
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    log(`run time ${result.seconds} s`);
    for (const [name, p] of Object.entries(result.phases))
      log(`${name}: sent ${p.sent}, failed ${p.failed} ${JSON.stringify(p.errors)}`);
    for (const [name, hosts] of Object.entries(result.perPhase))
      log(`${name} per host (access logs): ${JSON.stringify(hosts)}`);
    for (const [h, c] of Object.entries(result.perHost))
      log(`${h}: ${c.requests} requests to /, ${c.fromClient} logged as ${ADDR.client}`);
    log(`status page shows ${ADDR.client}: ${result.statusShowsClient}`);
    log(`Prometheus: ${JSON.stringify(result.prometheus)}`);
  }
} finally {
  cleanup();
}
