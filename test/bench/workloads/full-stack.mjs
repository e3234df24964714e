// The whole stack as a user deploys it (issue 16): the demo's middleware in front of a hello
// app (servers/full-stack-app.mjs), every request carrying X-Forwarded-For from a loopback
// peer, against raw node:http (no middleware) and the stacks an express, fastify or Plack
// user writes for the same job:
// - fastify: trustProxy (loopback), its own pino logger to a file, @fastify/static;
// - express: trust proxy (loopback), morgan `combined` to rotating-file-stream (daily),
//   express.static;
// - Starlet: AccessLog::Timed (combined), ReverseProxy (for loopback peers), Static
//   (servers/full-stack.psgi; Starlet's defaults: 10 workers, no keep-alive).
// Each on hello (`/`), on a 4 KiB file (`/static/4k.bin`), and hello with 2 workers: Plank's
// prefork against fastify under node:cluster. Every ratio is paired (both servers at once on
// the server core, each under its own wrk): the goals near 0.9x and 1.8x are within the drift
// between consecutive runs. `--minutes=5 --match='^plank stack$|raw'` is the long run whose
// RSS must stay flat.
// This file is also its own server: `node workloads/full-stack.mjs serve <kind>`, with its
// directories in FULL_STACK_STATE and FULL_STACK_ROOT.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasPackage, hasStarlet, requirePackage, isMain as startedAsServer } from '../peers.mjs';

const node = process.execPath;
const self = 'workloads/full-stack.mjs';
const isMain = startedAsServer(import.meta.url);
const forwarded = ['-H', 'X-Forwarded-For: 203.0.113.9'];

let base = '';
let root = '';
if (!isMain) {
  // Servers are killed, not stopped, so the runner removes what they wrote when it exits.
  base = mkdtempSync(join(tmpdir(), 'plank-bench-full-stack-'));
  root = join(base, 'public');
  mkdirSync(join(root, 'static'), { recursive: true });
  // Incompressible-looking bytes, as in the middleware-static workload.
  writeFileSync(
    join(root, 'static', '4k.bin'),
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)),
  );
  process.on('exit', () => rmSync(base, { recursive: true, force: true }));
}

const npmPeers = ['fastify', '@fastify/static', 'express', 'morgan', 'rotating-file-stream'];
const hasFastify = () => hasPackage('fastify') && hasPackage('@fastify/static');
const hasExpress = () => hasPackage('express') && hasPackage('morgan') && hasPackage('rotating-file-stream');
const hasPlackStack = () =>
  hasStarlet() && spawnSync('perl', ['-MPlack::Middleware::ReverseProxy', '-e1'], { stdio: 'ignore' }).status === 0;

let serial = 0;
/** A server of this workload; each gets its own state directory (logs, scoreboard). */
function server(name, kind, path, available) {
  const state = base && join(base, `state-${++serial}`);
  if (state) mkdirSync(state, { mode: 0o700 });
  const env = { FULL_STACK_STATE: state, FULL_STACK_ROOT: root };
  const command =
    kind === 'starlet'
      ? ['plackup', '-s', 'Starlet', '--host', '127.0.0.1', '--port', '{port}', '-E', 'deployment']
      : [node, self, 'serve', kind];
  if (kind === 'starlet') command.push('servers/full-stack.psgi');
  return { name, command, env, path, wrkArgs: forwarded, available };
}

const file = '/static/4k.bin';

export default {
  paired: true,
  rounds: 3,
  servers: [
    server('raw node:http', 'raw', '/'),
    server('plank stack', 'plank', '/'),
    server('fastify stack', 'fastify', '/', hasFastify),
    server('express stack', 'express', '/', hasExpress),
    server('Starlet stack', 'starlet', '/', hasPlackStack),
    server('plank stack 4k', 'plank', file),
    server('fastify stack 4k', 'fastify', file, hasFastify),
    server('express stack 4k', 'express', file, hasExpress),
    server('Starlet stack 4k', 'starlet', file, hasPlackStack),
    server('plank prefork x2 stack', 'plank-prefork', '/'),
    server('fastify node:cluster x2 stack', 'fastify-cluster', '/', hasFastify),
  ],
  ratios: [
    ['plank stack', 'raw node:http', 0.9],
    ['plank stack', 'fastify stack', 1.8],
    ['plank stack', 'express stack', 6.5],
    ['plank stack', 'Starlet stack', 4.5],
    ['plank stack 4k', 'fastify stack 4k', 2.0],
    ['plank stack 4k', 'Starlet stack 4k', 1.5],
    ['plank stack 4k', 'express stack 4k'],
    ['plank prefork x2 stack', 'fastify node:cluster x2 stack', 1.8],
  ],
  /** The peers' versions, for the record. */
  versions() {
    // Read from node_modules: some peers' `exports` do not include their package.json.
    const version = (dir) => {
      try {
        return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
      } catch {
        return '(not installed)';
      }
    };
    const modules = fileURLToPath(new URL('../node_modules/', import.meta.url));
    const list = npmPeers.map((p) => `${p} ${version(join(modules, p))}`);
    // fastify's logger is the pino fastify itself depends on.
    if (hasPackage('fastify')) {
      const fastifyDir = dirname(createRequire(import.meta.url).resolve('fastify'));
      // pino's main file sits at its package root.
      list.push(`pino ${version(dirname(createRequire(`${fastifyDir}/`).resolve('pino')))}`);
    }
    const perl = (expr) => spawnSync('perl', ['-e', expr], { encoding: 'utf8' }).stdout.trim() || '(not installed)';
    list.push(
      `Starlet ${perl('require Starlet; print $Starlet::VERSION')}`,
      `Plack ${perl('require Plack; print $Plack::VERSION')}`,
      `Plack::Middleware::ReverseProxy ${perl('require Plack::Middleware::ReverseProxy; print $Plack::Middleware::ReverseProxy::VERSION')}`,
    );
    return list.join(', ');
  },
};

const hello = 'Hello, World!';

/** fastify's stack: what its docs show for a proxied site with request logs and static files. */
async function fastifyStack(port, state, files) {
  const Fastify = requirePackage('fastify');
  mkdirSync(join(state, 'logs'), { recursive: true });
  const fastify = Fastify({ trustProxy: 'loopback', logger: { file: join(state, 'logs', 'fastify.log') } });
  fastify.register(requirePackage('@fastify/static'), { root: join(files, 'static'), prefix: '/static/' });
  fastify.get('/', (_request, reply) => {
    reply.header('Content-Type', 'text/plain').send(hello);
  });
  await fastify.listen({ host: '127.0.0.1', port });
}

if (isMain && process.argv[2] === 'serve') {
  const kind = process.argv[3];
  const port = Number(process.env.PORT);
  const state = process.env.FULL_STACK_STATE;
  const files = process.env.FULL_STACK_ROOT;
  const app = fileURLToPath(new URL('../servers/full-stack-app.mjs', import.meta.url));
  if (kind === 'raw') {
    const { createServer } = await import('node:http');
    createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '13' });
      res.end(hello);
    }).listen(port, '127.0.0.1');
  } else if (kind === 'plank') {
    const { serve } = await import('@plank/server-node');
    await serve((await import(app)).default, { host: '127.0.0.1', port });
  } else if (kind === 'plank-prefork') {
    const { prefork } = await import('@plank/server-prefork');
    await prefork({ app: { module: app }, listen: [{ host: '127.0.0.1', port }], workers: 2, log: () => {} });
  } else if (kind === 'fastify') {
    await fastifyStack(port, state, files);
  } else if (kind === 'fastify-cluster') {
    // The same fastify stack in each of 2 node:cluster workers (round-robin through the primary).
    const cluster = (await import('node:cluster')).default;
    if (cluster.isPrimary) for (let i = 0; i < 2; i++) cluster.fork();
    else await fastifyStack(port, state, files);
  } else if (kind === 'express') {
    const express = requirePackage('express');
    const morgan = requirePackage('morgan');
    const rfs = requirePackage('rotating-file-stream');
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(
      morgan('combined', { stream: rfs.createStream('access.log', { interval: '1d', path: join(state, 'logs') }) }),
    );
    app.use('/static', express.static(join(files, 'static')));
    app.get('/', (_req, res) => res.type('text/plain').send(hello));
    app.listen(port, '127.0.0.1');
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
}
