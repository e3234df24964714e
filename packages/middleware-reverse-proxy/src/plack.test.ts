import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { Env } from '@plank/core';
import { buildEnv } from '@plank/server-node';
import { seen } from './seen.fixture.js';

// Plack-Middleware-ReverseProxy 0.16, t/reverseproxy.t: the request is
// `GET http://example.com/?foo=bar` with the listed headers, from a trusted peer. The
// expected values were produced by running Plack 1.0050's HTTP::Message::PSGI and
// Plack::Request around the Perl middleware, and copied here.
type Case = {
  name: string;
  headers: Record<string, string>;
  /** MangleEnv in the Perl test sets env.HTTPS directly. */
  https?: string;
  plack: { REMOTE_ADDR: string; HTTP_HOST: string; SERVER_PORT: string; scheme: 'http' | 'https'; base: string };
  /** What Plank's own rules give, where they differ from Plack's. */
  plank?: Partial<Case['plack']>;
};

const cases: Case[] = [
  {
    name: 'with https',
    headers: { 'x-forwarded-https': 'on' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'example.com',
      SERVER_PORT: '443',
      scheme: 'https',
      base: 'https://example.com/',
    },
  },
  {
    name: 'without https',
    headers: { 'x-forwarded-https': 'off' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'example.com',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://example.com/',
    },
  },
  {
    name: 'dummy',
    headers: { dummy: '1' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'example.com',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://example.com/',
    },
  },
  {
    name: 'https with HTTP_X_FORWARDED_PROTO',
    headers: { 'x-forwarded-proto': 'https' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'example.com',
      SERVER_PORT: '443',
      scheme: 'https',
      base: 'https://example.com/',
    },
  },
  {
    name: 'http with HTTP_X_FORWARDED_PROTO',
    headers: { 'x-forwarded-proto': 'http' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'example.com',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://example.com/',
    },
  },
  {
    name: 'with HTTP_X_FORWARDED_FOR',
    headers: { 'x-forwarded-for': '192.168.3.2' },
    plack: {
      REMOTE_ADDR: '192.168.3.2',
      HTTP_HOST: 'example.com',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://example.com/',
    },
  },
  {
    name: 'with HTTP_X_FORWARDED_HOST',
    headers: { 'x-forwarded-host': '192.168.1.2:5235' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.2:5235',
      SERVER_PORT: '5235',
      scheme: 'http',
      base: 'http://192.168.1.2:5235/',
    },
  },
  {
    name: 'default port with HTTP_X_FORWARDED_HOST',
    headers: { 'x-forwarded-host': '192.168.1.2' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.2',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://192.168.1.2/',
    },
  },
  {
    name: 'default https port with HTTP_X_FORWARDED_HOST',
    headers: { 'x-forwarded-https': 'on', 'x-forwarded-host': '192.168.1.2' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.2',
      SERVER_PORT: '443',
      scheme: 'https',
      base: 'https://192.168.1.2/',
    },
  },
  {
    name: 'default port with HOST',
    headers: { host: '192.168.1.2' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.2',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://192.168.1.2/',
    },
  },
  {
    name: 'default https port with HOST',
    headers: { host: '192.168.1.2', https: 'ON' },
    https: 'ON',
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.2',
      SERVER_PORT: '443',
      scheme: 'https',
      base: 'https://192.168.1.2/',
    },
    // Plank's rules read no env.HTTPS (a server sets psgi.url_scheme) and leave the rest alone.
    plank: { SERVER_PORT: '80', scheme: 'http', base: 'http://192.168.1.2/' },
  },
  {
    name: 'with HTTP_X_FORWARDED_HOST and HTTP_X_FORWARDED_PORT',
    headers: { 'x-forwarded-host': '192.168.1.5', 'x-forwarded-port': '1984' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.5:1984',
      SERVER_PORT: '1984',
      scheme: 'http',
      base: 'http://192.168.1.5:1984/',
    },
  },
  {
    name: 'with multiple HTTP_X_FORWARDED_HOST and HTTP_X_FORWARDED_FOR',
    headers: {
      'x-forwarded-host': 'outmost.proxy.example.com, middle.proxy.example.com',
      'x-forwarded-for': '1.2.3.4, 192.168.1.6',
      host: '192.168.1.7:5000',
    },
    plack: {
      REMOTE_ADDR: '192.168.1.6',
      HTTP_HOST: 'middle.proxy.example.com',
      SERVER_PORT: '80',
      scheme: 'http',
      base: 'http://middle.proxy.example.com/',
    },
  },
  {
    name: 'normal plackup status',
    headers: { host: '127.0.0.1:5000' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '127.0.0.1:5000',
      SERVER_PORT: '5000',
      scheme: 'http',
      base: 'http://127.0.0.1:5000/',
    },
  },
  {
    name: 'HTTP_X_FORWARDED_PORT to secure port',
    headers: { 'x-forwarded-host': '192.168.1.2', 'x-forwarded-port': '443' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: '192.168.1.2:443',
      SERVER_PORT: '443',
      scheme: 'https',
      base: 'https://192.168.1.2/',
    },
    // Port 443 does not make a request https in Plank's rules: only a scheme header does.
    plank: { HTTP_HOST: '192.168.1.2:443', scheme: 'http', base: 'http://192.168.1.2:443/' },
  },
  {
    name: 'HTTP_X_FORWARDED_PORT to secure port (apache2)',
    headers: {
      'x-forwarded-server': 'proxy.example.com',
      'x-forwarded-host': 'proxy.example.com:8443',
      'x-forwarded-https': 'on',
      'x-forwarded-port': '8443',
    },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'proxy.example.com:8443',
      SERVER_PORT: '8443',
      scheme: 'https',
      base: 'https://proxy.example.com:8443/',
    },
  },
  {
    name: 'with HTTP_X_FORWARDED_SERVER including 443 port (apache1)',
    headers: { 'x-forwarded-server': 'proxy.example.com:443', 'x-forwarded-host': 'proxy.example.com' },
    plack: {
      REMOTE_ADDR: '127.0.0.1',
      HTTP_HOST: 'proxy.example.com',
      SERVER_PORT: '80',
      scheme: 'https',
      base: 'https://proxy.example.com/',
    },
    // X-Forwarded-Server names the proxy, not the URL the client used: Plank ignores it.
    plank: { scheme: 'http', base: 'http://proxy.example.com/' },
  },
];

function requestEnv(c: Case): Env {
  const raw: string[] = [];
  if (c.headers.host === undefined) raw.push('Host', 'example.com');
  for (const [name, value] of Object.entries(c.headers)) raw.push(name, value);
  const env = buildEnv(
    {
      method: 'GET',
      url: '/?foo=bar',
      httpVersion: '1.1',
      rawHeaders: raw,
      socket: { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 80 },
    },
    { input: Readable.from([]) },
  );
  if (c.https !== undefined) (env as unknown as Record<string, unknown>).HTTPS = c.https;
  return env;
}

/** Plack::Request->base: scheme, HTTP_HOST (else SERVER_NAME:SERVER_PORT), SCRIPT_NAME, made canonical as URI.pm does. */
function base(env: Env): string {
  const authority = env.HTTP_HOST || `${env.SERVER_NAME}:${env.SERVER_PORT}`;
  return new URL(`${env['psgi.url_scheme']}://${authority}${env.SCRIPT_NAME || '/'}`).href;
}

function observed(env: Env): Case['plack'] {
  return {
    REMOTE_ADDR: env.REMOTE_ADDR,
    HTTP_HOST: env.HTTP_HOST as string,
    SERVER_PORT: env.SERVER_PORT,
    scheme: env['psgi.url_scheme'],
    base: base(env),
  };
}

describe("Plack::Middleware::ReverseProxy's own test table", () => {
  test.each(cases)('compat: "plack" gives what Plack gives for "$name"', async (c) => {
    expect(observed(await seen({ compat: 'plack' }, requestEnv(c)))).toEqual(c.plack);
  });

  test.each(cases)('Plank\'s own rules give the documented result for "$name"', async (c) => {
    expect(observed(await seen({}, requestEnv(c)))).toEqual({ ...c.plack, ...c.plank });
  });

  test.each(cases)('an untrusted peer leaves the env of "$name" exactly as it came, in compat mode too', async (c) => {
    const env = requestEnv(c);
    const before = { ...env };
    expect(await seen({ compat: 'plack', trusted: ['10.0.0.0/8'] }, env)).toEqual(before);
  });

  test('compat mode keeps the socket peer in plank.reverse_proxy.peer_addr when X-Forwarded-For is used', async () => {
    const env = await seen(
      { compat: 'plack' },
      requestEnv({ name: 'xff', headers: { 'x-forwarded-for': 'junk, 1.2.3.4' }, plack: cases[0]!.plack }),
    );
    expect(env.REMOTE_ADDR).toBe('1.2.3.4');
    expect(env['plank.reverse_proxy.peer_addr']).toBe('127.0.0.1');
    expect(env['plank.reverse_proxy.peer_port']).toBe('40000');
  });

  test('compat mode takes the last X-Forwarded-For token unchecked, as Plack does', async () => {
    const env = await seen(
      { compat: 'plack' },
      requestEnv({ name: 'xff', headers: { 'x-forwarded-for': '10.0.0.1, 127.1' }, plack: cases[0]!.plack }),
    );
    expect(env.REMOTE_ADDR).toBe('127.1');
  });
});
