import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lint, type App } from '@plank/core';
import type { ServerHandle } from '@plank/server-node';
import { listen, rawRequest } from '@plank/test';
import { reverseProxy, type ReverseProxyOptions } from '@plank/middleware-reverse-proxy';

// Header values an attacker can send, over a real socket, byte for byte. The socket peer
// is 127.0.0.1; the trusted list is loopback plus 10.0.0.0/8 (the "proxies"), so entries in
// 10/8 on the right stand for what a proxy appended and everything else is the attacker's.
type Entry = { name: string; lines: string[]; expected: string; mode?: 'forwarded' };

const long = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i)).join(', ');

const corpus: Entry[] = [
  {
    name: 'loopback spoofed on the left',
    lines: ['X-Forwarded-For: 127.0.0.1, 203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'a trusted range spoofed on the left',
    lines: ['X-Forwarded-For: 10.0.0.1, 203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'IPv6 loopback spoofed on the left',
    lines: ['X-Forwarded-For: ::1, 203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'IPv4-mapped loopback spoofed on the left',
    lines: ['X-Forwarded-For: ::ffff:127.0.0.1, 203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'a spoof in its own earlier header line',
    lines: ['X-Forwarded-For: 127.0.0.1', 'X-Forwarded-For: 203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'three header lines ending with a trusted hop',
    lines: ['X-Forwarded-For: 1.1.1.1', 'X-Forwarded-For: 203.0.113.50', 'X-Forwarded-For: 10.0.0.7'],
    expected: '203.0.113.50',
  },
  {
    name: 'two trusted hops after the client',
    lines: ['X-Forwarded-For: 6.6.6.6, 203.0.113.50, 10.0.0.2, 10.0.0.3'],
    expected: '203.0.113.50',
  },
  { name: 'every hop trusted', lines: ['X-Forwarded-For: 10.0.0.9, 10.0.0.3'], expected: '10.0.0.9' },
  { name: 'junk as the last entry', lines: ['X-Forwarded-For: 203.0.113.50, junk'], expected: 'junk' },
  { name: 'unknown as the last entry', lines: ['X-Forwarded-For: 127.0.0.1, unknown'], expected: 'unknown' },
  {
    name: 'unknown behind a trusted hop',
    lines: ['X-Forwarded-For: 127.0.0.1, unknown, 10.0.0.3'],
    expected: 'unknown',
  },
  { name: 'an obfuscated identifier', lines: ['X-Forwarded-For: 127.0.0.1, _hidden'], expected: '_hidden' },
  { name: 'a quoted address', lines: ['X-Forwarded-For: "127.0.0.1"'], expected: '"127.0.0.1"' },
  { name: 'IPv4 with a port', lines: ['X-Forwarded-For: 127.0.0.1, 203.0.113.50:4711'], expected: '203.0.113.50' },
  { name: 'IPv4 with an impossible port', lines: ['X-Forwarded-For: 127.0.0.1:99999'], expected: '127.0.0.1:99999' },
  {
    name: 'bracketed IPv6 with a port',
    lines: ['X-Forwarded-For: ::1, [2001:DB8::50]:4711'],
    expected: '2001:db8::50',
  },
  { name: 'bracketed IPv6 without a port', lines: ['X-Forwarded-For: [2001:db8:0:0::50]'], expected: '2001:db8::50' },
  { name: 'bare IPv6 in upper case', lines: ['X-Forwarded-For: 2001:DB8::50'], expected: '2001:db8::50' },
  { name: 'IPv6 that only looks like ::1 with a port', lines: ['X-Forwarded-For: ::1:80'], expected: '::1:80' },
  { name: 'IPv6 with a zone index', lines: ['X-Forwarded-For: fe80::1%eth0'], expected: 'fe80::1%eth0' },
  { name: 'IPv4-mapped client', lines: ['X-Forwarded-For: ::ffff:203.0.113.50'], expected: '203.0.113.50' },
  {
    name: 'IPv4-compatible ::127.0.0.1, which is not loopback',
    lines: ['X-Forwarded-For: 1.2.3.4, ::127.0.0.1'],
    expected: '::7f00:1',
  },
  { name: 'octal loopback', lines: ['X-Forwarded-For: 203.0.113.50, 0177.0.0.1'], expected: '0177.0.0.1' },
  { name: 'hex loopback', lines: ['X-Forwarded-For: 203.0.113.50, 0x7f.0.0.1'], expected: '0x7f.0.0.1' },
  { name: 'short loopback', lines: ['X-Forwarded-For: 203.0.113.50, 127.1'], expected: '127.1' },
  { name: 'integer loopback', lines: ['X-Forwarded-For: 203.0.113.50, 2130706433'], expected: '2130706433' },
  {
    name: 'leading zeros in a trusted range',
    lines: ['X-Forwarded-For: 203.0.113.50, 010.0.0.1'],
    expected: '010.0.0.1',
  },
  { name: 'an octet above 255', lines: ['X-Forwarded-For: 256.0.0.1'], expected: '256.0.0.1' },
  {
    name: 'IPv4-mapped octal',
    lines: ['X-Forwarded-For: 203.0.113.50, ::ffff:0177.0.0.1'],
    expected: '::ffff:0177.0.0.1',
  },
  {
    name: 'spaces and tabs around items',
    lines: ['X-Forwarded-For:   203.0.113.50  ,\t10.0.0.2  '],
    expected: '203.0.113.50',
  },
  { name: 'empty items', lines: ['X-Forwarded-For: , ,203.0.113.50,,, '], expected: '203.0.113.50' },
  { name: 'only empty items', lines: ['X-Forwarded-For: , ,'], expected: '127.0.0.1' },
  { name: 'an empty header', lines: ['X-Forwarded-For: '], expected: '127.0.0.1' },
  {
    name: 'spaces instead of commas',
    lines: ['X-Forwarded-For: 127.0.0.1 203.0.113.50'],
    expected: '127.0.0.1 203.0.113.50',
  },
  {
    name: 'semicolons instead of commas',
    lines: ['X-Forwarded-For: 203.0.113.50;127.0.0.1'],
    expected: '203.0.113.50;127.0.0.1',
  },
  { name: 'an odd-case header name', lines: ['x-FORWARDED-for: 127.0.0.1, 203.0.113.50'], expected: '203.0.113.50' },
  {
    name: 'a long list of trusted hops',
    lines: [`X-Forwarded-For: 203.0.113.50, ${long(1000, (i) => `10.0.${i >> 8}.${i & 255}`)}`],
    expected: '203.0.113.50',
  },
  {
    name: 'a long list of spoofed loopback on the left',
    lines: [`X-Forwarded-For: ${long(1000, () => '127.0.0.1')}, 203.0.113.50`],
    expected: '203.0.113.50',
  },
  {
    name: 'a Forwarded header, which x-forwarded mode ignores',
    lines: ['Forwarded: for=127.0.0.1', 'X-Forwarded-For: 203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'Forwarded: loopback spoofed in an earlier element',
    mode: 'forwarded',
    lines: ['Forwarded: for=127.0.0.1, for=203.0.113.50'],
    expected: '203.0.113.50',
  },
  {
    name: 'Forwarded: quoted IPv6 with port',
    mode: 'forwarded',
    lines: ['Forwarded: for="[2001:db8::50]:4711", for=10.0.0.2'],
    expected: '2001:db8::50',
  },
  {
    name: 'Forwarded: unknown',
    mode: 'forwarded',
    lines: ['Forwarded: for=127.0.0.1, for=unknown'],
    expected: 'unknown',
  },
  {
    name: 'Forwarded: a repeated for= in one element',
    mode: 'forwarded',
    lines: ['Forwarded: for=127.0.0.1;for=10.0.0.1'],
    expected: 'for=127.0.0.1;for=10.0.0.1',
  },
  {
    name: 'Forwarded: an element without for=',
    mode: 'forwarded',
    lines: ['Forwarded: for=127.0.0.1, proto=https'],
    expected: 'unknown',
  },
  {
    name: 'Forwarded: a spoof in its own earlier header line',
    mode: 'forwarded',
    lines: ['Forwarded: for=127.0.0.1', 'Forwarded: for=203.0.113.50;proto=https'],
    expected: '203.0.113.50',
  },
  {
    name: 'Forwarded: short loopback',
    mode: 'forwarded',
    lines: ['Forwarded: for=203.0.113.50, for=127.1'],
    expected: '127.1',
  },
];

const echo: App = (env) => [200, ['Content-Type', 'application/json'], [JSON.stringify({ addr: env.REMOTE_ADDR })]];
const trusted = ['loopback', '10.0.0.0/8'];
const servers: Record<'x-forwarded' | 'forwarded' | 'untrusted', ServerHandle | undefined> = {
  'x-forwarded': undefined,
  forwarded: undefined,
  untrusted: undefined,
};

async function addrVia(server: ServerHandle | undefined, lines: string[]): Promise<string> {
  const head = ['GET / HTTP/1.1', 'Host: app.example', 'Connection: close', ...lines].join('\r\n');
  const res = await rawRequest(server?.port as number, `${head}\r\n\r\n`);
  expect(res.status).toBe(200);
  return (JSON.parse(res.text) as { addr: string }).addr;
}

describe('the spoof corpus over real sockets', () => {
  beforeAll(async () => {
    const opts: Record<keyof typeof servers, ReverseProxyOptions> = {
      'x-forwarded': { trusted },
      forwarded: { trusted, headers: 'forwarded' },
      // The peer (127.0.0.1) is not in this list, so nothing may change.
      untrusted: { trusted: ['10.0.0.0/8'], headers: 'both' },
    };
    for (const key of Object.keys(opts) as Array<keyof typeof servers>)
      servers[key] = await listen(lint(reverseProxy(opts[key])(lint(echo))));
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s?.close({ timeout: 1000 })));
  });

  test('holds at least 30 header values', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  test.each(corpus)('from a trusted peer, $name gives REMOTE_ADDR $expected', async ({ lines, expected, mode }) => {
    expect(await addrVia(servers[mode ?? 'x-forwarded'], lines)).toBe(expected);
  });

  test.each(corpus)('from an untrusted peer, $name leaves REMOTE_ADDR at the socket address', async ({ lines }) => {
    expect(await addrVia(servers.untrusted, lines)).toBe('127.0.0.1');
  });
});
