#!/usr/bin/env node
// A bounded soak of the file sender (issue #13 item 1, SECURITY.md): clients pipeline
// downloads of a 1 MiB file through @plank/middleware-static on @plank/server-node (whole
// files, single ranges, multipart ranges), read a little and disconnect, for 60 s (or
// `--seconds N`). The server runs in a child process; its descriptors and RSS are sampled
// every few seconds. At the end the curve (start, peak, end) is printed, and the exit status
// is non-zero if descriptors or RSS did not come back near where they started:
// descriptors within 2 of the start, RSS within 64 MiB of it (after a GC). Loopback only;
// every loop is bounded by the deadline. Runs the built dist/ (`pnpm build` first).
//
//   node test/hostile/soak.mjs [--seconds 60] [--clients 8]
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FD_SLACK = 2;
const RSS_SLACK = 64 * 1024 * 1024;
const SIZE = 1024 * 1024;

function parseArgs(args) {
  const out = { seconds: 60, clients: 8 };
  for (let i = 0; i < args.length; i++) {
    const name = args[i].replace(/^--/, '').split('=')[0];
    const value = args[i].includes('=') ? args[i].split('=')[1] : args[++i];
    const n = Number(value);
    if (!(name in out) || !Number.isInteger(n) || n < 1 || n > 3600) {
      console.error(`soak: --seconds and --clients take a whole number from 1 to 3600, got ${args.join(' ')}`);
      process.exit(2);
    }
    out[name] = n;
  }
  return out;
}

async function runServer(root) {
  const { builder } = await import('@plank/core');
  const { serveStatic } = await import('@plank/middleware-static');
  const { serve } = await import('@plank/server-node');
  const app = builder(({ enable }) => {
    enable(serveStatic({ path: '/static/', root }));
    return () => [200, ['Content-Type', 'text/plain'], ['app']];
  });
  const handle = await serve(app, { host: '127.0.0.1', port: 0, errors: { write: () => true } });
  // The soak's end (or its crash) ends the server.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m) => {
    if (m === 'gc') {
      globalThis.gc?.();
      setTimeout(() => process.send('gc-done'), 200);
    } else if (m === 'stop') {
      void handle.close({ timeout: 1000 }).then(() => process.exit(0));
    }
  });
  process.send({ port: handle.port });
}

function sample(pid) {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { fds, rss };
}

const requests = ['', 'Range: bytes=1000-900000\r\n', 'Range: bytes=0-300000,400000-800000,900000-\r\n'];

/** One client: pipelines 1-200 GETs, reads up to a few hundred KiB, then disconnects. */
function attack(port, n) {
  return new Promise((resolve) => {
    const count = 1 + ((n * 37) % 200);
    const range = requests[n % requests.length];
    const stopAfter = (n % 5) * 128 * 1024 + 1;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET /static/big.bin HTTP/1.1\r\nHost: soak\r\n${range}\r\n`.repeat(count));
    });
    let got = 0;
    socket.on('data', (d) => {
      got += d.length;
      if (got >= stopAfter) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', resolve);
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

async function soak({ seconds, clients }) {
  const dir = mkdtempSync(join(tmpdir(), 'plank-soak-'));
  mkdirSync(join(dir, 'static'));
  writeFileSync(join(dir, 'static', 'big.bin'), Buffer.alloc(SIZE, 115));
  const child = fork(fileURLToPath(import.meta.url), ['--server', dir], {
    execArgv: ['--expose-gc'],
    stdio: 'inherit',
  });
  const fail = (why) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    console.error(`soak: ${why}`);
    return 1;
  };
  const message = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await message();
  const gc = async () => {
    child.send('gc');
    await message();
  };
  await gc();
  const start = sample(child.pid);
  const curve = [{ t: 0, ...start }];
  const began = Date.now();
  const deadline = began + seconds * 1000;
  const every = Math.max(1000, Math.min(5000, Math.floor((seconds * 1000) / 12)));
  const sampler = setInterval(() => curve.push({ t: (Date.now() - began) / 1000, ...sample(child.pid) }), every);
  let attacks = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) await attack(port, attacks++);
    }),
  );
  clearInterval(sampler);
  // Let the server finish with what the last clients left, then compare.
  let end = sample(child.pid);
  for (let i = 0; i < 20 && (end.fds > start.fds + FD_SLACK || end.rss > start.rss + RSS_SLACK); i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    await gc();
    end = sample(child.pid);
  }
  curve.push({ t: (Date.now() - began) / 1000, ...end });
  const mib = (b) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  const peak = curve.reduce((p, s) => ({ fds: Math.max(p.fds, s.fds), rss: Math.max(p.rss, s.rss) }), start);
  for (const s of curve)
    console.log(`t=${s.t.toFixed(1).padStart(5)}s  fds ${String(s.fds).padStart(4)}  rss ${mib(s.rss)}`);
  console.log(
    `soak: ${attacks} connections in ${seconds}s, each pipelining 1-200 downloads then leaving; ` +
      `descriptors start ${start.fds} peak ${peak.fds} end ${end.fds}; ` +
      `RSS start ${mib(start.rss)} peak ${mib(peak.rss)} end ${mib(end.rss)}`,
  );
  if (end.fds > start.fds + FD_SLACK)
    return fail(`descriptors did not come back: ${end.fds} at the end, ${start.fds} at the start`);
  if (end.rss > start.rss + RSS_SLACK)
    return fail(`RSS did not come back: ${mib(end.rss)} at the end, ${mib(start.rss)} at the start`);
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  console.log('soak: ok');
  return 0;
}

if (process.argv[2] === '--server') {
  await runServer(process.argv[3]);
} else {
  process.exitCode = await soak(parseArgs(process.argv.slice(2)));
}
