import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { builder, PlankError, type Env } from '@plank/core';
import { buildEnv } from '@plank/server-node';
import { plankMiddleware, reverseProxy, type ReverseProxyOptions } from '@plank/middleware-reverse-proxy';
import { seen } from './seen.fixture.js';

/** A real env as the node server builds it, minus the socket (none in-process). */
function envFrom(rawHeaders: string[], remoteAddress = '127.0.0.1'): Env {
  const raw = rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')
    ? rawHeaders
    : ['Host', 'app.example', ...rawHeaders];
  const env = buildEnv(
    {
      method: 'GET',
      url: '/',
      httpVersion: '1.1',
      rawHeaders: raw,
      socket: { remoteAddress, remotePort: 40000, localAddress: '127.0.0.1', localPort: 5000 },
    },
    { input: Readable.from([]) },
  );
  return env;
}

const run = seen;

const xff = (value: string, remote?: string): Env => envFrom(['X-Forwarded-For', value], remote);

function errorOf(fn: () => unknown): PlankError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlankError) return err;
    throw err;
  }
  throw new Error('expected a PlankError');
}

describe('options', () => {
  test.each([
    [{ trust: ['loopback'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"trust"'],
    [{ headers: 'x-forwarded-for' }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"x-forwarded-for"'],
    [{ compat: 'rack' }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"rack"'],
    [{ compat: 'plack', headers: 'forwarded' }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"forwarded"'],
    [{ trusted: ['127.1'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"127.1"'],
    [{ trusted: ['0177.0.0.1'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"0177.0.0.1"'],
    [{ trusted: ['10.0.0.0/33'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"10.0.0.0/33"'],
    [{ trusted: ['10.0.0.0/x'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"10.0.0.0/x"'],
    [{ trusted: ['fd00::/129'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"fd00::/129"'],
    [{ trusted: ['::ffff:10.0.0.0/8'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"::ffff:10.0.0.0/8"'],
    [{ trusted: ['fe80::1%eth0'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"fe80::1%eth0"'],
    [{ trusted: ['localhost'] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '"localhost"'],
    [{ trusted: [] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '[]'],
    [{ trusted: [10] }, 'PLANK_ERR_REVERSE_PROXY_OPTION', '10'],
    [{ trusted: true }, 'PLANK_ERR_REVERSE_PROXY_OPTION', 'true'],
  ])(
    'rejects %j when the factory is called, with a stable code and the culprit in the message',
    (options, code, culprit) => {
      const err = errorOf(() => reverseProxy(options as ReverseProxyOptions));
      expect(err.code).toBe(code);
      expect(err.message).toContain(culprit);
    },
  );

  test('names the option a misspelt one was probably meant to be', () => {
    const err = errorOf(() => reverseProxy({ trust: ['loopback'] } as ReverseProxyOptions));
    expect(err.message).toContain('unknown option "trust" (did you mean "trusted"?');
  });

  test('rejects an IPv4-mapped range with an IPv4-sized prefix instead of widening it', () => {
    const err = errorOf(() => reverseProxy({ trusted: ['::ffff:10.0.0.0/8'] }));
    expect(err.message).toMatch(/IPv4-mapped/);
  });

  test('accepts an IPv4-mapped range with an IPv6 prefix and matches the IPv4 addresses it covers', async () => {
    const mw = { trusted: ['::ffff:10.0.0.0/104'] };
    expect((await run(mw, xff('1.2.3.4', '10.9.8.7'))).REMOTE_ADDR).toBe('1.2.3.4');
    expect((await run(mw, xff('1.2.3.4', '11.0.0.1'))).REMOTE_ADDR).toBe('11.0.0.1');
  });

  test('accepts one comma-separated string of entries, as config files and command lines give it', async () => {
    const env = await run({ trusted: 'loopback, 10.0.0.0/8' }, xff('1.2.3.4, 10.0.0.2'));
    expect(env.REMOTE_ADDR).toBe('1.2.3.4');
  });

  test('is found by name through plankMiddleware and enable()', async () => {
    expect(plankMiddleware.ReverseProxy).toBe(reverseProxy);
    const pkgDir = fileURLToPath(new URL('..', import.meta.url));
    const app = builder(
      ({ enable }) => {
        enable('ReverseProxy', { trusted: ['loopback'] });
        return (env) => [200, ['Content-Type', 'text/plain'], [env.REMOTE_ADDR]];
      },
      { resolveFrom: pkgDir },
    );
    const res = (await app(xff('203.0.113.9'))) as [number, string[], string[]];
    expect(res[2]).toEqual(['203.0.113.9']);
    const err = errorOf(() =>
      builder(({ enable }) => enable('ReverseProxy', { trusted: ['127.1'] }), { resolveFrom: pkgDir }),
    );
    expect(err.code).toBe('PLANK_ERR_REVERSE_PROXY_OPTION');
  });
});

describe('the trust check on the socket peer', () => {
  test('leaves env exactly as it was when the peer is not trusted, whatever the headers say', async () => {
    const env = envFrom(
      [
        'X-Forwarded-For',
        '127.0.0.1',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'evil.example:8443',
        'X-Forwarded-Port',
        '8443',
        'Forwarded',
        'for=127.0.0.1;proto=https',
      ],
      '203.0.113.5',
    );
    const before = { ...env };
    for (const headers of ['x-forwarded', 'forwarded', 'both'] as const) {
      expect(await run({ headers }, env)).toEqual(before);
    }
  });

  test('trusts loopback by default, IPv4 and IPv6, and IPv4-mapped peers of a dual-stack socket', async () => {
    expect((await run({}, xff('198.51.100.1', '127.0.0.1'))).REMOTE_ADDR).toBe('198.51.100.1');
    expect((await run({}, xff('198.51.100.1', '127.8.9.10'))).REMOTE_ADDR).toBe('198.51.100.1');
    expect((await run({}, xff('198.51.100.1', '::1'))).REMOTE_ADDR).toBe('198.51.100.1');
    const mapped = xff('198.51.100.1');
    mapped.REMOTE_ADDR = '::ffff:127.0.0.1';
    expect((await run({}, mapped)).REMOTE_ADDR).toBe('198.51.100.1');
    expect((await run({}, xff('198.51.100.1', '10.0.0.1'))).REMOTE_ADDR).toBe('10.0.0.1');
  });

  test('matches IPv6 ranges and the presets', async () => {
    expect((await run({ trusted: ['2001:db8::/32'] }, xff('198.51.100.1', '2001:db8:1::5'))).REMOTE_ADDR).toBe(
      '198.51.100.1',
    );
    expect((await run({ trusted: ['2001:db8::/32'] }, xff('198.51.100.1', '2001:db9::5'))).REMOTE_ADDR).toBe(
      '2001:db9::5',
    );
    expect((await run({ trusted: ['uniquelocal'] }, xff('198.51.100.1', '172.31.255.254'))).REMOTE_ADDR).toBe(
      '198.51.100.1',
    );
    expect((await run({ trusted: ['uniquelocal'] }, xff('198.51.100.1', '172.32.0.1'))).REMOTE_ADDR).toBe('172.32.0.1');
    expect((await run({ trusted: ['uniquelocal'] }, xff('198.51.100.1', 'fd12::1'))).REMOTE_ADDR).toBe('198.51.100.1');
    expect((await run({ trusted: ['linklocal'] }, xff('198.51.100.1', 'fe80::abcd'))).REMOTE_ADDR).toBe('198.51.100.1');
    expect((await run({ trusted: ['linklocal'] }, xff('198.51.100.1', '169.254.1.1'))).REMOTE_ADDR).toBe(
      '198.51.100.1',
    );
  });

  test('trusts a Unix-domain socket peer (REMOTE_ADDR "") only through a trust function', async () => {
    expect((await run({}, xff('198.51.100.1', ''))).REMOTE_ADDR).toBe('');
    const viaSocketFile = (addr: string, hop: number): boolean => hop === 0 && addr === '';
    expect((await run({ trusted: viaSocketFile }, xff('198.51.100.1', ''))).REMOTE_ADDR).toBe('198.51.100.1');
  });

  test('asks a trust function about every hop it walks, the socket peer as hop 0', async () => {
    const calls: Array<[string, number]> = [];
    const trusted = (addr: string, hop: number): boolean => {
      calls.push([addr, hop]);
      return hop < 2;
    };
    const env = await run({ trusted }, xff('192.0.2.1, 192.0.2.2, [2001:DB8::2]:80', '::ffff:127.0.0.1'));
    expect(env.REMOTE_ADDR).toBe('192.0.2.2');
    expect(calls).toEqual([
      ['127.0.0.1', 0],
      ['2001:db8::2', 1],
      ['192.0.2.2', 2],
    ]);
  });
});

describe('X-Forwarded-For', () => {
  test('skips trusted hops from the right and stops at the first untrusted one', async () => {
    const env = await run({ trusted: ['loopback', '10.0.0.0/8'] }, xff('6.6.6.6, 203.0.113.7, 10.0.0.3, 10.0.0.2'));
    expect(env.REMOTE_ADDR).toBe('203.0.113.7');
  });

  test('gives the leftmost entry when every hop is trusted', async () => {
    expect((await run({ trusted: ['10.0.0.0/8', 'loopback'] }, xff('10.0.0.9, 10.0.0.3'))).REMOTE_ADDR).toBe(
      '10.0.0.9',
    );
  });

  test('stops at an entry that is not an address and gives it as it is, so no allow list can match it', async () => {
    expect((await run({ trusted: ['loopback', '10.0.0.0/8'] }, xff('1.2.3.4, unknown, 10.0.0.2'))).REMOTE_ADDR).toBe(
      'unknown',
    );
    expect((await run({}, xff('1.2.3.4, 127.1'))).REMOTE_ADDR).toBe('127.1');
    expect((await run({}, xff('1.2.3.4, "<script>"'))).REMOTE_ADDR).toBe('"<script>"');
  });

  test('reads several header lines as one list, in order', async () => {
    const env = await run(
      { trusted: ['loopback', '10.0.0.0/8'] },
      envFrom(['X-Forwarded-For', '1.1.1.1, 2.2.2.2', 'X-Forwarded-For', '10.0.0.1']),
    );
    expect(env.REMOTE_ADDR).toBe('2.2.2.2');
  });

  test('ignores empty items and whitespace, and changes nothing when the list is empty', async () => {
    expect((await run({}, xff(' ,, 198.51.100.4 ,\t, '))).REMOTE_ADDR).toBe('198.51.100.4');
    const env = await run({}, xff(' , '));
    expect(env.REMOTE_ADDR).toBe('127.0.0.1');
    expect(env['plank.reverse_proxy.peer_addr']).toBeUndefined();
  });

  test('reads a lone hop (no comma, read without walking a list) exactly as a list item', async () => {
    expect((await run({}, xff(' \t198.51.100.4 '))).REMOTE_ADDR).toBe('198.51.100.4');
    expect(await run({}, xff('[2001:db8::1]:4711'))).toMatchObject({ REMOTE_ADDR: '2001:db8::1', REMOTE_PORT: '4711' });
    expect((await run({}, xff(' unknown '))).REMOTE_ADDR).toBe('unknown');
    const blank = await run({}, xff(' \t '));
    expect(blank.REMOTE_ADDR).toBe('127.0.0.1');
    expect(blank['plank.reverse_proxy.peer_addr']).toBeUndefined();
  });

  test('stores canonical addresses: IPv4-mapped as IPv4, IPv6 compressed and lower-case, ports and brackets removed', async () => {
    expect((await run({}, xff('::FFFF:198.51.100.4'))).REMOTE_ADDR).toBe('198.51.100.4');
    expect((await run({}, xff('[2001:DB8:0:0::1]:4711'))).REMOTE_ADDR).toBe('2001:db8::1');
    expect((await run({}, xff('198.51.100.4:4711'))).REMOTE_ADDR).toBe('198.51.100.4');
  });

  test('keeps the socket peer under plank.reverse_proxy.peer_addr/peer_port and sets REMOTE_PORT only from the header', async () => {
    const withPort = await run({}, xff('198.51.100.4:4711'));
    expect(withPort).toMatchObject({
      REMOTE_PORT: '4711',
      'plank.reverse_proxy.peer_addr': '127.0.0.1',
      'plank.reverse_proxy.peer_port': '40000',
    });
    const without = await run({}, xff('198.51.100.4'));
    expect(without.REMOTE_PORT).toBeUndefined();
    expect(without['plank.reverse_proxy.peer_port']).toBe('40000');
  });

  test('keeps the first peer when two layers rewrite', async () => {
    let inner: Env | undefined;
    const app = reverseProxy({ trusted: ['loopback'] })(
      reverseProxy({ trusted: ['10.0.0.0/8'] })((e) => {
        inner = { ...e };
        return [200, [], []];
      }),
    );
    await app(xff('198.51.100.4, 10.0.0.2'));
    expect(inner).toMatchObject({ REMOTE_ADDR: '198.51.100.4', 'plank.reverse_proxy.peer_addr': '127.0.0.1' });
  });
});

describe('scheme, host and port', () => {
  const headers = async (raw: string[], options: ReverseProxyOptions = {}): Promise<Partial<Env>> => {
    const env = await run(options, envFrom(raw));
    return {
      HTTP_HOST: env.HTTP_HOST,
      SERVER_NAME: env.SERVER_NAME,
      SERVER_PORT: env.SERVER_PORT,
      'psgi.url_scheme': env['psgi.url_scheme'],
    };
  };

  test('takes the scheme from X-Forwarded-Proto, case-insensitively, and moves SERVER_PORT to its default', async () => {
    expect(await headers(['X-Forwarded-Proto', 'HTTPS'])).toEqual({
      HTTP_HOST: 'app.example',
      SERVER_NAME: 'app.example',
      SERVER_PORT: '443',
      'psgi.url_scheme': 'https',
    });
    expect(await headers(['X-Forwarded-Proto', 'http, https'])).toMatchObject({ 'psgi.url_scheme': 'https' });
    expect(await headers(['X-Forwarded-Proto', 'gopher'])).toMatchObject({
      SERVER_PORT: '80',
      'psgi.url_scheme': 'http',
    });
  });

  test('takes the scheme from X-Forwarded-HTTPS or X-Forwarded-Ssl "on"', async () => {
    expect(await headers(['X-Forwarded-HTTPS', 'ON'])).toMatchObject({
      SERVER_PORT: '443',
      'psgi.url_scheme': 'https',
    });
    expect(await headers(['X-Forwarded-Ssl', 'on'])).toMatchObject({ SERVER_PORT: '443', 'psgi.url_scheme': 'https' });
    expect(await headers(['X-Forwarded-Ssl', 'yes'])).toMatchObject({ 'psgi.url_scheme': 'http' });
  });

  test('keeps an explicit port of the Host header when only the scheme changes', async () => {
    expect(await headers(['Host', 'app.example:8443', 'X-Forwarded-Proto', 'https'])).toMatchObject({
      HTTP_HOST: 'app.example:8443',
      SERVER_PORT: '8443',
    });
  });

  test('takes host and port from the rightmost X-Forwarded-Host, and SERVER_NAME with them', async () => {
    expect(await headers(['X-Forwarded-Host', 'evil.example, www.example:8080'])).toEqual({
      HTTP_HOST: 'www.example:8080',
      SERVER_NAME: 'www.example',
      SERVER_PORT: '8080',
      'psgi.url_scheme': 'http',
    });
    expect(await headers(['X-Forwarded-Host', '[2001:db8::1]:8443', 'X-Forwarded-Proto', 'https'])).toEqual({
      HTTP_HOST: '[2001:db8::1]:8443',
      SERVER_NAME: '[2001:db8::1]',
      SERVER_PORT: '8443',
      'psgi.url_scheme': 'https',
    });
  });

  test('adds X-Forwarded-Port to a host without one, and leaves the default port out of HTTP_HOST', async () => {
    expect(await headers(['X-Forwarded-Host', 'www.example', 'X-Forwarded-Port', '8080'])).toMatchObject({
      HTTP_HOST: 'www.example:8080',
      SERVER_PORT: '8080',
    });
    expect(await headers(['X-Forwarded-Port', '8080'])).toMatchObject({
      HTTP_HOST: 'app.example:8080',
      SERVER_PORT: '8080',
    });
    expect(await headers(['X-Forwarded-Host', 'www.example:443', 'X-Forwarded-Proto', 'https'])).toMatchObject({
      HTTP_HOST: 'www.example',
      SERVER_PORT: '443',
    });
  });

  test('ignores a malformed X-Forwarded-Host or X-Forwarded-Port', async () => {
    expect(await headers(['X-Forwarded-Host', 'a b/c'])).toEqual({
      HTTP_HOST: 'app.example',
      SERVER_NAME: 'app.example',
      SERVER_PORT: '80',
      'psgi.url_scheme': 'http',
    });
    expect(await headers(['X-Forwarded-Port', '99999'])).toMatchObject({ HTTP_HOST: 'app.example', SERVER_PORT: '80' });
  });

  test('does not touch SERVER_PORT when no proxy header is present (compat: "plack" forces it from Host)', async () => {
    const make = (): Env => {
      const env = envFrom(['X-Forwarded-For', '198.51.100.4']);
      env.SERVER_PORT = '5000';
      return env;
    };
    expect((await run({}, make())).SERVER_PORT).toBe('5000');
    expect((await run({ compat: 'plack' }, make())).SERVER_PORT).toBe('80');
  });
});

describe('Forwarded (RFC 7239)', () => {
  const fwd = (value: string, extra: string[] = []): Env => envFrom(['Forwarded', value, ...extra]);

  test('walks for= from the right and takes proto and host from the element where it stopped', async () => {
    const env = await run(
      { headers: 'forwarded', trusted: ['loopback', '10.0.0.0/8'] },
      fwd(
        'for=6.6.6.6;proto=http;host=evil.example, for="[2001:db8::7]:4711";proto=https;host=www.example, for=10.0.0.2;proto=http;host=lb.internal',
      ),
    );
    expect(env).toMatchObject({
      REMOTE_ADDR: '2001:db8::7',
      REMOTE_PORT: '4711',
      'psgi.url_scheme': 'https',
      HTTP_HOST: 'www.example',
      SERVER_PORT: '443',
    });
  });

  test('gives "unknown", obfuscated identifiers and unreadable elements as they are', async () => {
    expect((await run({ headers: 'forwarded' }, fwd('for=1.2.3.4, for=unknown'))).REMOTE_ADDR).toBe('unknown');
    expect((await run({ headers: 'forwarded' }, fwd('for=1.2.3.4, for="_hidden:_port"'))).REMOTE_ADDR).toBe(
      '_hidden:_port',
    );
    expect((await run({ headers: 'forwarded' }, fwd('for=1.2.3.4, proto=https'))).REMOTE_ADDR).toBe('unknown');
    expect((await run({ headers: 'forwarded' }, fwd('for=1.2.3.4, for=127.0.0.1;for=127.0.0.2'))).REMOTE_ADDR).toBe(
      'for=127.0.0.1;for=127.0.0.2',
    );
  });

  test('reads only the headers chosen: X-Forwarded-For is ignored in forwarded mode, Forwarded in x-forwarded mode', async () => {
    const both = (): Env => fwd('for=198.51.100.1', ['X-Forwarded-For', '198.51.100.2']);
    expect((await run({ headers: 'forwarded' }, both())).REMOTE_ADDR).toBe('198.51.100.1');
    expect((await run({}, both())).REMOTE_ADDR).toBe('198.51.100.2');
    expect((await run({ headers: 'forwarded' }, xff('198.51.100.2'))).REMOTE_ADDR).toBe('127.0.0.1');
  });

  test('"both" prefers Forwarded and falls back to the X-Forwarded set', async () => {
    expect(
      (await run({ headers: 'both' }, fwd('for=198.51.100.1', ['X-Forwarded-For', '198.51.100.2']))).REMOTE_ADDR,
    ).toBe('198.51.100.1');
    expect((await run({ headers: 'both' }, xff('198.51.100.2'))).REMOTE_ADDR).toBe('198.51.100.2');
  });
});
