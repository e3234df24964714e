import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type Peer, peerStarted, which } from '@plank/test';

export { type Peer, startNginx } from '@plank/test';

// Apache httpd started by tests in front of a FastCGI app (nginx is @plank/test's startNginx),
// and the FastCGI params Plack documents for nginx.

export const nginxPath = which('nginx');
export const apachePath = which('apache2') ?? which('httpd');
const MODULES = ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules'].find((d) =>
  existsSync(d),
);

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
  return peerStarted(child, dir, port, () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''));
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
