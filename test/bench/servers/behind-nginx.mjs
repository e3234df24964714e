// nginx on $PORT in front of a backend started here: `node servers/behind-nginx.mjs
// plank-fcgi|plank-http|plack-fcgi hello|64k`. nginx and the backend both run on the server
// core (run.mjs pins this process; children inherit the pinning). Stops both on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const [kind, body = 'hello'] = process.argv.slice(2);
const port = Number(process.env.PORT);
const dir = mkdtempSync(join(tmpdir(), 'plank-bench-nginx-'));
const payload = body === '64k' ? 'x'.repeat(64 * 1024) : 'Hello, World!';
const free = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => resolve(p));
    });
  });
const backendPort = await free();
const children = [];
const app = () => [200, ['Content-Type', 'text/plain', 'Content-Length', String(payload.length)], [payload]];

if (kind === 'plank-fcgi') {
  const { serveFcgi } = await import('../../../packages/server-fcgi/dist/index.js');
  await serveFcgi(app, { host: '127.0.0.1', port: backendPort });
} else if (kind === 'plank-http') {
  const { serve } = await import('@plank/server-node');
  await serve(app, { host: '127.0.0.1', port: backendPort });
} else if (kind === 'plack-fcgi') {
  writeFileSync(
    join(dir, 'app.psgi'),
    `my $b = ${body === '64k' ? "'x' x 65536" : "'Hello, World!'"}; sub { [200, ['Content-Type' => 'text/plain', 'Content-Length' => length $b], [$b]] };\n`,
  );
  children.push(
    spawn(
      'plackup',
      ['-E', 'deployment', '-s', 'FCGI', '--listen', `127.0.0.1:${backendPort}`, '--nproc', '1', join(dir, 'app.psgi')],
      {
        stdio: 'ignore',
        detached: true,
      },
    ),
  );
} else throw new Error(`unknown backend ${kind}`);

const pass =
  kind === 'plank-http'
    ? `proxy_pass http://127.0.0.1:${backendPort}; proxy_http_version 1.1; proxy_set_header Connection "";`
    : `fastcgi_pass backend; fastcgi_keep_conn on; include /etc/nginx/fastcgi_params;`;
writeFileSync(
  join(dir, 'nginx.conf'),
  `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log error;
user ${userInfo().username};
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f; uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 32; }
  server { listen 127.0.0.1:${port}; location / { ${kind === 'plank-http' ? pass.replace(`http://127.0.0.1:${backendPort}`, 'http://backend') : pass} } }
}
`,
);
children.push(
  spawn('nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' }),
);

const stop = () => {
  for (const child of children) {
    try {
      process.kill(child.spawnfile === 'plackup' ? -child.pid : child.pid, 'SIGTERM');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
