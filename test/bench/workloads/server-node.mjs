// server-node's workload: the acceptance bar (a Plank hello app >= 0.95x a raw node:http
// hello server, writeHead + end), plus a streaming response and a 64 KiB file body next to
// node:http piping the same file. This file is also its own server:
// `node workloads/server-node.mjs serve <kind>` (PORT from the environment).
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { isMain as startedAsServer } from '../peers.mjs';

const node = process.execPath;
const self = 'workloads/server-node.mjs';
const isMain = startedAsServer(import.meta.url);

let dir = '';
if (!isMain) {
  dir = mkdtempSync(join(tmpdir(), 'plank-bench-server-node-'));
  writeFileSync(join(dir, '64k.bin'), Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 7919 + 13) & 0xff)));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

const server = (kind, name) => ({ name, command: [node, self, 'serve', kind, dir] });

export default {
  servers: [
    server('raw-hello', 'raw node:http hello'),
    server('plank-hello', 'plank hello'),
    server('plank-stream', 'plank streaming hello'),
    server('raw-file', 'raw node:http 64k file'),
    server('plank-file', 'plank 64k file body'),
  ],
  ratios: [
    ['plank hello', 'raw node:http hello', 0.95],
    ['plank streaming hello', 'raw node:http hello'],
    ['plank 64k file body', 'raw node:http 64k file', 0.9],
  ],
};

if (isMain && process.argv[2] === 'serve') {
  const [kind, root] = process.argv.slice(3);
  const port = Number(process.env.PORT);
  const file = join(root, '64k.bin');
  const text = ['Content-Type', 'text/plain'];
  if (kind === 'raw-hello') {
    createServer((_req, res) => {
      res.writeHead(200, text);
      res.end('Hello, World!');
    }).listen(port, '127.0.0.1');
  } else if (kind === 'raw-file') {
    createServer((_req, res) => {
      res.writeHead(200, ['Content-Type', 'application/octet-stream', 'Content-Length', '65536']);
      pipeline(createReadStream(file), res, () => {});
    }).listen(port, '127.0.0.1');
  } else {
    const { serve } = await import('@plank/server-node');
    const apps = {
      'plank-hello': () => [200, text, ['Hello, World!']],
      'plank-stream': () => async (respond) => {
        const w = respond([200, text]);
        await w.write('Hello, World!');
        await w.close();
      },
      'plank-file': () => [
        200,
        ['Content-Type', 'application/octet-stream', 'Content-Length', '65536'],
        { path: file },
      ],
    };
    await serve(apps[kind], { host: '127.0.0.1', port });
  }
}
