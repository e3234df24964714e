// CrossOrigin side by side with express's cors package: the same configurations, the same
// requests, over real sockets. The table this test produces is the one in the README
// (section "Compared with express's cors"); the test fails when they differ, and
// PLANK_PRINT_TABLE=1 prints the fresh table to paste there.
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import cors, { type CorsOptions } from 'cors';
import { lint, type App } from '@plank/core';
import { listen } from '@plank/test';
import { describe, expect, it } from 'vitest';
import { crossOrigin, type CrossOriginOptions } from './index.js';

const A = 'https://a.test';
const B = 'https://b.test';

type Config = { name: string; plank: CrossOriginOptions; cors: CorsOptions };
const configs: Config[] = [
  { name: 'any origin', plank: { origins: '*' }, cors: { origin: '*' } },
  { name: `origins [${A}]`, plank: { origins: [A] }, cors: { origin: [A] } },
  {
    name: `origins [${A}], credentials`,
    plank: { origins: [A], credentials: true, maxAge: 600 },
    cors: { origin: [A], credentials: true, maxAge: 600 },
  },
  {
    name: 'any origin, credentials',
    plank: { origins: '*', credentials: true },
    cors: { origin: '*', credentials: true },
  },
  {
    name: `async function allowing ${A}`,
    plank: { origins: async (origin) => origin === A },
    cors: { origin: (origin, cb) => setImmediate(() => cb(null, origin === A)) },
  },
];

type Req = { name: string; method: string; headers: Record<string, string> };
const requests: Req[] = [
  { name: 'GET, no Origin', method: 'GET', headers: {} },
  { name: `GET from ${A}`, method: 'GET', headers: { Origin: A } },
  { name: `GET from ${B}`, method: 'GET', headers: { Origin: B } },
  {
    name: `preflight PUT from ${A}`,
    method: 'OPTIONS',
    headers: { Origin: A, 'Access-Control-Request-Method': 'PUT' },
  },
  {
    name: `preflight PATCH + X-Token from ${A}`,
    method: 'OPTIONS',
    headers: { Origin: A, 'Access-Control-Request-Method': 'PATCH', 'Access-Control-Request-Headers': 'X-Token' },
  },
  {
    name: `preflight PUT from ${B}`,
    method: 'OPTIONS',
    headers: { Origin: B, 'Access-Control-Request-Method': 'PUT' },
  },
  {
    name: `preflight TRACE from ${A}`,
    method: 'OPTIONS',
    headers: { Origin: A, 'Access-Control-Request-Method': 'TRACE' },
  },
];

const app: App = () => [200, ['Content-Type', 'text/plain'], ['ok']];

function ask(port: number, req: Req): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { host: '127.0.0.1', port, path: '/', method: req.method, headers: req.headers, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => {
          const h = res.headers;
          const parts = [String(res.statusCode)];
          const show = (label: string, v: string | string[] | undefined) => {
            if (v !== undefined) parts.push(`${label}: ${v}`);
          };
          show('ACAO', h['access-control-allow-origin']);
          show('ACAC', h['access-control-allow-credentials']);
          show('methods', h['access-control-allow-methods']);
          show('headers', h['access-control-allow-headers']);
          show('max-age', h['access-control-max-age']);
          show('Vary', h.vary);
          resolve(parts.join('; '));
        });
      },
    );
    r.on('error', reject);
    r.end();
  });
}

async function corsServer(options: CorsOptions): Promise<Server> {
  const mw = cors(options);
  const server = createServer((req, res) =>
    mw(req, res, () => {
      res.setHeader('Content-Type', 'text/plain');
      res.end('ok');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function readmeRows(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = (readme.split("### Compared with express's cors")[1] ?? '').split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| configuration') && !line.startsWith('| ---'));
}

describe('CrossOrigin and the cors package', () => {
  it('answer as the behaviour table says', async () => {
    const rows: string[] = [];
    for (const config of configs) {
      const peer = await corsServer(config.cors);
      const ours = await listen(lint(crossOrigin(config.plank)(lint(app))));
      try {
        for (const req of requests) {
          const theirs = await ask((peer.address() as AddressInfo).port, req);
          const mine = await ask(ours.port as number, req);
          rows.push(`| ${config.name} | ${req.name} | ${theirs} | ${mine} |`);
        }
      } finally {
        await ours.close();
        await new Promise((resolve) => peer.close(resolve));
      }
    }
    if (process.env.PLANK_PRINT_TABLE) console.log(`\n${rows.join('\n')}`);
    expect(rows).toEqual(readmeRows());
  });
});
