import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, until, which } from '@plank/test';

// nginx and Apache httpd started by tests in front of a FastCGI app, each in a scratch
// directory with its own port, stopped and removed by stop().

export type Peer = { port: number; dir: string; stop(): Promise<void>; log(): Promise<string> };

export const nginxPath = which('nginx');
export const apachePath = which('apache2') ?? which('httpd');
const MODULES = ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules'].find((d) =>
  existsSync(d),
);

/** nginx with `locations` (the body of its one server block) on a free loopback port. */
export async function startNginx(locations: string, http = ''): Promise<Peer> {
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
  return started(child, dir, port, () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''));
}

/** Apache httpd (prefork, mod_proxy_fcgi) with `directives` on a free loopback port. */
export async function startApache(directives: string): Promise<Peer> {
  if (!apachePath || !MODULES) throw new Error('apache2 is not installed (CI installs it: apt-get install apache2)');
  const dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-httpd-'));
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const conf = [
    `ServerRoot "${dir}"`,
    `PidFile "${dir}/httpd.pid"`,
    `ErrorLog "${dir}/error.log"`,
    `DefaultRuntimeDir "${dir}"`,
    ...['mpm_prefork', 'authz_core', 'proxy', 'proxy_fcgi']
      .filter((m) => existsSync(join(MODULES, `mod_${m}.so`)))
      .map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    root ? 'User nobody\nGroup nogroup' : '',
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    directives,
  ].join('\n');
  await writeFile(join(dir, 'httpd.conf'), `${conf}\n`);
  const child = spawn(apachePath, ['-f', join(dir, 'httpd.conf'), '-X'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return started(child, dir, port, () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''));
}

async function started(child: ChildProcess, dir: string, port: number, log: () => Promise<string>): Promise<Peer> {
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

/** The fastcgi_param lines Plack's documentation gives for an app at the root (SCRIPT_NAME empty, PATH_INFO $uri). */
export function plackParams(script = ''): string {
  return `
      fastcgi_param  SCRIPT_NAME      "${script}";
      fastcgi_param  PATH_INFO        $uri;
      fastcgi_param  QUERY_STRING     $query_string;
      fastcgi_param  REQUEST_METHOD   $request_method;
      fastcgi_param  CONTENT_TYPE     $content_type;
      fastcgi_param  CONTENT_LENGTH   $content_length;
      fastcgi_param  REQUEST_URI      $request_uri;
      fastcgi_param  SERVER_PROTOCOL  $server_protocol;
      fastcgi_param  REMOTE_ADDR      $remote_addr;
      fastcgi_param  REMOTE_PORT      $remote_port;
      fastcgi_param  SERVER_ADDR      $server_addr;
      fastcgi_param  SERVER_PORT      $server_port;
      fastcgi_param  SERVER_NAME      $server_name;`;
}
