// Plank's Deflater side by side with express's `compression` (the peer most Node users
// know): the same responses served by both over real sockets, the same requests, then the
// coding chosen, Vary and the decoded bytes compared. Where the two differ on purpose, the
// case says so; the README's table is this test's output.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import compression from 'compression';
import { lint, type App } from '@plank/core';
import { listen } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflater } from './index.js';

const json = JSON.stringify(
  Array.from({ length: 640 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'], price: i * 1.25 })),
);

type Shape = { type?: string; headers?: Record<string, string>; body: string; stream?: boolean };
const shapes: Record<string, Shape> = {
  json: { type: 'application/json', body: json },
  small: { type: 'text/plain', body: 'x'.repeat(100) },
  png: { type: 'image/png', body: json },
  'no-transform': { type: 'text/plain', headers: { 'Cache-Control': 'no-transform' }, body: json },
  stream: { type: 'text/plain', body: json, stream: true },
  etag: { type: 'text/plain', headers: { ETag: '"v1"', Vary: 'Cookie' }, body: json },
  precompressed: {
    type: 'text/css',
    headers: { 'Content-Encoding': 'gzip' },
    body: zlib.gzipSync(json).toString('latin1'),
  },
};

const plankApp: App = (env) => {
  const shape = shapes[env.PATH_INFO.slice(1)] as Shape;
  const headers = ['Content-Type', shape.type ?? ''];
  for (const [k, v] of Object.entries(shape.headers ?? {})) headers.push(k, v);
  const bytes = Buffer.from(shape.body, 'latin1');
  return [200, headers, shape.stream ? Readable.from(chunksOf(bytes)) : [bytes]];
};

// A streamed body: 4 KiB writes, as a template engine or a database cursor would produce.
function chunksOf(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 4096) out.push(bytes.subarray(i, i + 4096));
  return out;
}

type Seen = { encoding: string; vary: string; etag: string; body: string };

function fetchRaw(port: number, path: string, method: string, accept?: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (accept !== undefined) headers['Accept-Encoding'] = accept;
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(seen(res.headers, Buffer.concat(parts))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function seen(headers: IncomingHttpHeaders, body: Buffer): Seen {
  const encoding = headers['content-encoding'] ?? 'identity';
  const decoded =
    body.length === 0
      ? ''
      : encoding === 'gzip'
        ? zlib.gunzipSync(body)
        : encoding === 'deflate'
          ? zlib.inflateSync(body)
          : encoding === 'br'
            ? zlib.brotliDecompressSync(body)
            : body;
  return {
    encoding,
    vary: String(headers.vary ?? ''),
    etag: String(headers.etag ?? ''),
    body: decoded.toString('latin1'),
  };
}

let peer: Server;
let peerPort: number;
let plank: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  const compress = compression();
  peer = createServer((req, res) => {
    compress(req as never, res as never, () => {
      const shape = shapes[(req.url ?? '/').slice(1)] as Shape;
      res.setHeader('Content-Type', shape.type ?? '');
      for (const [k, v] of Object.entries(shape.headers ?? {})) res.setHeader(k, v);
      const bytes = Buffer.from(shape.body, 'latin1');
      if (!shape.stream) return void res.end(bytes);
      for (const chunk of chunksOf(bytes)) res.write(chunk);
      res.end();
    });
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  peerPort = (peer.address() as AddressInfo).port;
  plank = await listen(lint(deflater()(lint(plankApp))));
});

afterAll(async () => {
  await plank.close();
  await new Promise((resolve) => peer.close(resolve));
});

/** [path, method, Accept-Encoding, what differs on purpose (undefined: nothing)] */
export const cases: Array<[string, string, string | undefined, string | undefined]> = [
  ['/json', 'GET', 'gzip', undefined],
  ['/json', 'GET', 'deflate', undefined],
  ['/json', 'GET', 'br', undefined],
  ['/json', 'GET', 'gzip, deflate, br', undefined],
  ['/json', 'GET', 'gzip;q=1, br;q=0.8', undefined],
  ['/json', 'GET', 'br;q=0, *', undefined],
  ['/json', 'GET', 'identity', undefined],
  ['/json', 'GET', undefined, undefined],
  ['/json', 'HEAD', 'gzip', 'HEAD: compression sends it unencoded; Deflater sends the headers a GET gets'],
  ['/small', 'GET', 'gzip', undefined],
  ['/png', 'GET', 'gzip', undefined],
  ['/no-transform', 'GET', 'gzip', undefined],
  ['/precompressed', 'GET', 'gzip', undefined],
  [
    '/stream',
    'GET',
    'gzip, deflate, br',
    'a streamed body: compression uses br; Deflater uses gzip, brotli being kept for whole bodies',
  ],
  ['/stream', 'GET', 'gzip', undefined],
  ['/etag', 'GET', 'gzip', 'a strong ETag: compression keeps it; Deflater makes it weak (W/), as nginx does'],
];

describe('Deflater and the compression package', () => {
  it('choose the same coding and send the same bytes, except where the case says why', async () => {
    const rows: string[] = [];
    for (const [path, method, accept, differs] of cases) {
      const ours = await fetchRaw(plank.port as number, path, method, accept);
      const theirs = await fetchRaw(peerPort, path, method, accept);
      rows.push(
        `| ${method} ${path} | ${accept ?? '(none)'} | ${theirs.encoding} | ${ours.encoding} | ${theirs.vary || '-'} | ${ours.vary || '-'} | ${theirs.etag || '-'} | ${ours.etag || '-'} | ${ours.body === theirs.body ? 'same' : 'differ'} |`,
      );
      expect(ours.body, `${method} ${path} ${accept}`).toBe(theirs.body);
      if (differs === undefined) {
        expect(ours.encoding, `${method} ${path} ${accept}`).toBe(theirs.encoding);
        expect(ours.vary, `${method} ${path} ${accept}`).toBe(theirs.vary);
        expect(ours.etag, `${method} ${path} ${accept}`).toBe(theirs.etag);
      } else {
        expect([ours.encoding, ours.vary, ours.etag], `${method} ${path} ${accept}: ${differs}`).not.toEqual([
          theirs.encoding,
          theirs.vary,
          theirs.etag,
        ]);
      }
    }
    if (process.env.PLANK_PRINT_TABLE) console.log(rows.join('\n'));
  });
});
