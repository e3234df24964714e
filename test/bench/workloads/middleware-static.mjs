// Static files, 4 KiB and 1 MiB, served by Plank's Static (fileApp on server-node, with the
// cache, its default, and with `cache: false`) next to nginx, Perl Starlet with Plack's Static, @fastify/static,
// express.static and a plain node:http + fs pipeline. Goals (issue 4): 4 KiB >= 1.5x
// @fastify/static; 1 MiB >= 1.0x Starlet; both >= 0.5x nginx.
// npm peers (@fastify/static, express) are resolved with require(): they count as installed
// when test/bench depends on them or NODE_PATH points at them. Debian peers (nginx, Starlet)
// are found on PATH (and /usr/sbin).
// This file is also its own server: `node workloads/middleware-static.mjs serve <kind> <dir>`.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasPackage, hasStarlet, isMain as startedAsServer, requirePackage, which } from '../peers.mjs';

const node = process.execPath;
const self = 'workloads/middleware-static.mjs';
const isMain = startedAsServer(import.meta.url);

let dir = '';
if (!isMain) {
  dir = mkdtempSync(join(tmpdir(), 'plank-bench-static-'));
  chmodSync(dir, 0o755); // nginx workers run as nobody
  // Incompressible-looking bytes, so nothing downstream could shortcut them.
  const bytes = (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + 13) & 0xff));
  writeFileSync(join(dir, '4k.bin'), bytes(4096));
  writeFileSync(join(dir, '1m.bin'), bytes(1024 * 1024));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

const kinds = [
  { kind: 'plank-cache', name: 'plank fileApp (cache)' },
  { kind: 'plank', name: 'plank fileApp' },
  { kind: 'nginx', name: 'nginx', available: () => !!which('nginx') },
  { kind: 'starlet', name: 'Starlet + Plack Static', available: hasStarlet },
  { kind: 'fastify', name: '@fastify/static', available: () => hasPackage('fastify') && hasPackage('@fastify/static') },
  { kind: 'express', name: 'express.static', available: () => hasPackage('express') },
  { kind: 'pipe', name: 'node:http + fs pipeline' },
];
const servers = [];
for (const size of ['4k', '1m']) {
  for (const k of kinds)
    servers.push({
      name: `${k.name} ${size}`,
      command: [node, self, 'serve', k.kind, dir],
      path: `/${size}.bin`,
      available: k.available,
    });
}

export default {
  servers,
  ratios: [
    ['plank fileApp (cache) 4k', '@fastify/static 4k', 1.5],
    ['plank fileApp (cache) 4k', 'nginx 4k', 0.5],
    ['plank fileApp (cache) 1m', 'Starlet + Plack Static 1m', 1.0],
    ['plank fileApp (cache) 1m', 'nginx 1m', 0.5],
    ['plank fileApp 4k', '@fastify/static 4k'],
    ['plank fileApp 1m', 'Starlet + Plack Static 1m'],
    ['plank fileApp (cache) 4k', 'node:http + fs pipeline 4k'],
    ['plank fileApp (cache) 1m', 'node:http + fs pipeline 1m'],
  ],
};

if (isMain && process.argv[2] === 'serve') {
  const [kind, root] = process.argv.slice(3);
  const port = Number(process.env.PORT);
  if (kind === 'plank' || kind === 'plank-cache') {
    const { serve } = await import('@plank/server-node');
    // Not a dependency of the bench package: load the built package by path.
    const { fileApp } = await import('@plank/middleware-static');
    await serve(fileApp({ root, cache: kind === 'plank-cache' }), { host: '127.0.0.1', port });
  } else if (kind === 'nginx') {
    const conf = join(root, `nginx-${process.pid}.conf`);
    const prefix = mkdtempSync(join(tmpdir(), 'plank-bench-nginx-'));
    // One worker, like the single node process; sendfile and open_file_cache as a tuned site has.
    writeFileSync(
      conf,
      `worker_processes 1; daemon off; pid ${prefix}/nginx.pid; error_log stderr error;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  open_file_cache max=1000 inactive=20s; types { application/octet-stream bin; }
  client_body_temp_path ${prefix}; proxy_temp_path ${prefix}; fastcgi_temp_path ${prefix}; uwsgi_temp_path ${prefix}; scgi_temp_path ${prefix};
  server { listen 127.0.0.1:${port}; root ${root}; } }
`,
    );
    const child = spawn(which('nginx'), ['-p', prefix, '-c', conf], { stdio: 'inherit' });
    process.on('SIGTERM', () => child.kill('SIGQUIT'));
  } else if (kind === 'starlet') {
    const app = `use Plack::Builder; builder { enable "Static", path => qr{^/}, root => "${root}"; sub { [404, [], ["not found"]] } }`;
    const child = spawn(
      'plackup',
      ['-s', 'Starlet', '--host', '127.0.0.1', '--port', String(port), '-E', 'deployment', '-e', app],
      { stdio: 'inherit' },
    );
    process.on('SIGTERM', () => child.kill('SIGTERM'));
  } else if (kind === 'fastify') {
    const fastify = requirePackage('fastify')({ logger: false });
    fastify.register(requirePackage('@fastify/static'), { root });
    await fastify.listen({ host: '127.0.0.1', port });
  } else if (kind === 'express') {
    const express = requirePackage('express');
    const app = express();
    app.use(express.static(root));
    app.listen(port, '127.0.0.1');
  } else if (kind === 'pipe') {
    const { createServer } = await import('node:http');
    const { createReadStream, stat } = await import('node:fs');
    const { pipeline } = await import('node:stream');
    createServer((req, res) => {
      const path = join(root, req.url.slice(1));
      stat(path, (err, st) => {
        if (err || !st.isFile()) return res.writeHead(404).end();
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
        pipeline(createReadStream(path), res, () => undefined);
      });
    }).listen(port, '127.0.0.1');
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
}
