// Plank over FastCGI behind nginx, against Plank over HTTP behind the same nginx (proxy_pass,
// upstream keep-alive) and Plack's own FCGI handler (FCGI::ProcManager, one process) behind it:
// a hello body and a 64 KiB body. Every server is nginx + its backend (servers/behind-nginx.mjs).
import { spawnSync } from 'node:child_process';

const node = process.execPath;
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const server = (name, kind, body) => ({
  name,
  command: [node, 'servers/behind-nginx.mjs', kind, body],
  available: () => has('nginx') && (kind !== 'plack-fcgi' || has('plackup')),
});

export default {
  servers: [
    server('nginx > Plank FastCGI, hello', 'plank-fcgi', 'hello'),
    server('nginx > Plank HTTP, hello', 'plank-http', 'hello'),
    server('nginx > Plack FCGI, hello', 'plack-fcgi', 'hello'),
    server('nginx > Plank FastCGI, 64 KiB', 'plank-fcgi', '64k'),
    server('nginx > Plank HTTP, 64 KiB', 'plank-http', '64k'),
    server('nginx > Plack FCGI, 64 KiB', 'plack-fcgi', '64k'),
  ],
  ratios: [
    ['nginx > Plank FastCGI, hello', 'nginx > Plank HTTP, hello'],
    ['nginx > Plank FastCGI, hello', 'nginx > Plack FCGI, hello'],
    ['nginx > Plank FastCGI, 64 KiB', 'nginx > Plank HTTP, 64 KiB'],
    ['nginx > Plank FastCGI, 64 KiB', 'nginx > Plack FCGI, 64 KiB'],
  ],
};
