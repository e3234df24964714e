// Deflater against express's compression on the same 50 KiB JSON, both on node:http (Plank
// through server-node, compression as connect middleware on a bare http.createServer), gzip
// and brotli at each side's defaults (level 6, brotli quality 4). Paired: the two servers of a
// ratio share the server core round by round, so machine drift cancels out. No goal: the
// ratio is reported, and Deflater should not be the slower of the two.
// This file is also its own server: `node workloads/middleware-deflater.mjs serve <kind>`.
import { hasPackage, requirePackage, isMain as startedAsServer } from '../peers.mjs';

const node = process.execPath;
const self = 'workloads/middleware-deflater.mjs';
const gzip = ['-H', 'Accept-Encoding: gzip'];
const br = ['-H', 'Accept-Encoding: br'];
const peer = () => hasPackage('compression');

export default {
  paired: true,
  rounds: 5,
  servers: [
    { name: 'plank + Deflater (gzip)', command: [node, self, 'serve', 'plank'], wrkArgs: gzip },
    {
      name: 'node:http + compression (gzip)',
      command: [node, self, 'serve', 'compression'],
      wrkArgs: gzip,
      available: peer,
    },
    { name: 'plank + Deflater (br)', command: [node, self, 'serve', 'plank'], wrkArgs: br },
    {
      name: 'node:http + compression (br)',
      command: [node, self, 'serve', 'compression'],
      wrkArgs: br,
      available: peer,
    },
  ],
  ratios: [
    ['plank + Deflater (gzip)', 'node:http + compression (gzip)'],
    ['plank + Deflater (br)', 'node:http + compression (br)'],
  ],
};

// 50 KiB of JSON of the usual shape: records with ids, names, numbers and short lists.
function payload() {
  const items = [];
  for (let i = 0; JSON.stringify(items).length < 50 * 1024; i++)
    items.push({ id: i, name: `item ${i}`, price: Math.round(i * 137.5) / 100, tags: ['alpha', 'beta'].slice(i % 2) });
  return JSON.stringify(items);
}

if (startedAsServer(import.meta.url) && process.argv[2] === 'serve') {
  const kind = process.argv[3];
  const port = Number(process.env.PORT);
  const body = Buffer.from(payload());
  if (kind === 'compression') {
    const { createServer } = await import('node:http');
    const compress = requirePackage('compression')();
    createServer((req, res) =>
      compress(req, res, () => {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Content-Length', body.length);
        res.end(body);
      }),
    ).listen(port, '127.0.0.1');
  } else {
    const { serve } = await import('@plank/server-node');
    const { deflater } = await import('@plank/middleware-deflater');
    const headers = ['Content-Type', 'application/json', 'Content-Length', String(body.length)];
    const app = deflater()(() => [200, [...headers], [body]]);
    await serve(app, { host: '127.0.0.1', port });
  }
}
