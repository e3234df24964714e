import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, until, which } from './machine.js';

// A real peer a test runs in front of (or beside) a Plank server: nginx here, in a scratch
// directory with its own loopback port, stopped and removed by stop(). Other peers (Apache)
// use peerStarted() for the same wait and clean-up.

/** A peer process a test started: where it listens, its scratch directory, its log. */
export type Peer = { port: number; dir: string; stop(): Promise<void>; log(): Promise<string> };

/**
 * nginx with `server` (the body of its one server block: locations) and `http` (extra
 * http-level directives) on a free loopback port; resolves once it accepts connections.
 *
 * @example
 * ```ts
 * import { startNginx } from '@plank/test';
 * const nginx = await startNginx(`location / { proxy_pass http://127.0.0.1:${port}; }`);
 * await fetch(`http://127.0.0.1:${nginx.port}/`);
 * await nginx.stop();
 * ```
 */
export async function startNginx(locations: string, http = ''): Promise<Peer> {
  const nginxPath = which('nginx');
  if (!nginxPath) throw new Error('nginx is not installed (CI installs it: apt-get install nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-nginx-'));
  const port = await freePort();
  const conf = `
daemon off;
master_process off;
user ${userInfo().username};
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 64m;
  ${http}
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
${locations}
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const child = spawn(nginxPath, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return peerStarted(child, dir, port, () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''));
}

/**
 * Waits until `child` accepts connections on `port` (or fails with its output and `log()`),
 * and returns the Peer whose stop() ends it (TERM, then KILL after 5 s) and removes `dir`.
 */
export async function peerStarted(
  child: ChildProcess,
  dir: string,
  port: number,
  log: () => Promise<string>,
): Promise<Peer> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}\n${await log()}`);
      return (await canConnect(port)) || undefined;
    }, `the peer to listen on ${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, dir, stop, log };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
