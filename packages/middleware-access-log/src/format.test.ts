import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Env } from '@plank/core';
import { compileFormat } from './compile.js';
import type { LogRecord } from './format.js';
import { escapeLogItem } from './escape.js';
import { strftime } from './strftime.js';

function env(extra: Partial<Env> = {}): Env {
  return {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/foo',
    REQUEST_URI: '/foo?bar=baz',
    QUERY_STRING: 'bar=baz',
    SERVER_NAME: 'example.com',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '192.0.2.7',
    REMOTE_PORT: '50000',
    'psgi.version': [1, 1],
    'psgi.url_scheme': 'http',
    'psgi.input': new PassThrough(),
    'psgi.errors': process.stderr,
    'psgi.multithread': false,
    'psgi.multiprocess': false,
    'psgi.run_once': false,
    'psgi.nonblocking': true,
    'psgi.streaming': true,
    ...extra,
  } as Env;
}

// 2026-03-04 05:06:07.089 UTC
const T = Date.UTC(2026, 2, 4, 5, 6, 7, 89);

function rec(extra: Partial<LogRecord> = {}): LogRecord {
  return {
    env: env(),
    status: 200,
    headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '2'],
    body: ['OK'],
    bodyBytes: 2,
    headerBytes: 60,
    aborted: false,
    start: T,
    end: T + 1.5,
    ...extra,
  };
}

const fmt = (f: string, r: LogRecord = rec(), utc = true): string => compileFormat(f, { utc })(r);

describe('escapeLogItem', () => {
  it('leaves printable ASCII alone', () => {
    expect(escapeLogItem('GET /a?b=c HTTP/1.1')).toBe('GET /a?b=c HTTP/1.1');
  });
  it('escapes quotes, backslashes, C escapes and every other byte as \\xhh like httpd', () => {
    expect(escapeLogItem('a"b\\c')).toBe('a\\"b\\\\c');
    expect(escapeLogItem('\b\n\r\t\v')).toBe('\\b\\n\\r\\t\\v');
    expect(escapeLogItem('\x00\x1b\x7f')).toBe('\\x00\\x1b\\x7f');
  });
  it('escapes byte strings per byte and text above U+00FF as its UTF-8 bytes', () => {
    expect(escapeLogItem('\xc3\xa9')).toBe('\\xc3\\xa9');
    expect(escapeLogItem('€')).toBe('\\xe2\\x82\\xac');
  });
  it('never lets a value produce a newline', () => {
    for (let c = 0; c < 256; c++) expect(escapeLogItem(String.fromCharCode(c))).not.toMatch(/[\n\r]/);
  });
});

describe('compileFormat', () => {
  it('renders combined with dashes for missing referer, user and agent', () => {
    expect(fmt('combined')).toBe(
      '192.0.2.7 - - [04/Mar/2026:05:06:07 +0000] "GET /foo?bar=baz HTTP/1.1" 200 2 "-" "-"',
    );
  });
  it('renders common', () => {
    expect(fmt('common')).toBe('192.0.2.7 - - [04/Mar/2026:05:06:07 +0000] "GET /foo?bar=baz HTTP/1.1" 200 2');
  });
  it('rebuilds %r from %m %U%q %H for a plain request, as Plack checks', () => {
    const [r, rs] = fmt('%r == %m %U%q %H').split(' == ');
    expect(r).toBe(rs);
  });
  it('prints request headers through %{Name}i, with Content-Type and Content-Length from their CGI keys', () => {
    const e = env({
      HTTP_HOST: 'example.com',
      HTTP_X_FORWARDED_FOR: '192.0.2.1',
      CONTENT_TYPE: 'application/x-www-form-urlencoded',
      CONTENT_LENGTH: '7',
    });
    expect(fmt('%{Host}i %{X-Forwarded-For}i %{Content-Type}i %{content-length}i %{Missing}i', rec({ env: e }))).toBe(
      'example.com 192.0.2.1 application/x-www-form-urlencoded 7 -',
    );
  });
  it('logs a header worth "0" as 0 and a missing one as -', () => {
    expect(fmt('%{zero}i %{undef}i', rec({ env: env({ HTTP_ZERO: '0' }) }))).toBe('0 -');
  });
  it('prints response headers through %{Name}o, Content-Type without parameters as httpd does', () => {
    expect(fmt('%{Content-Type}o %{content-length}o %{X-None}o')).toBe('text/plain 2 -');
  });
  it('joins every Set-Cookie for %{Set-Cookie}o', () => {
    expect(fmt('%{Set-Cookie}o', rec({ headers: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'] }))).toBe('a=1, b=2');
  });
  it('prints %b as - for an empty body and %B as 0', () => {
    expect(fmt('%b %B', rec({ bodyBytes: 0 }))).toBe('- 0');
    expect(fmt('%b %B', rec({ bodyBytes: 1234 }))).toBe('1234 1234');
  });
  it('prints durations: %D in microseconds, %T and %{UNIT}T', () => {
    const r = rec({ end: T + 2500.25 });
    expect(fmt('%D %T %{ms}T %{us}T %{s}T', r)).toBe('2500250 2 2500 2500250 2');
  });
  it('prints %t and %{...}t from the start time, and end: from the end', () => {
    const r = rec({ end: T + 61_000 });
    expect(fmt('%t|%{%Y-%m-%d %H:%M:%S}t|%{end:%M:%S}t', r)).toBe(
      '[04/Mar/2026:05:06:07 +0000]|[2026-03-04 05:06:07]|[07:08]',
    );
  });
  it('prints sec, msec, usec and their fractions', () => {
    expect(fmt('%{sec}t %{msec}t %{msec_frac}t %{usec_frac}t %{begin:sec}t')).toBe(
      `${Math.floor(T / 1000)} ${T} 089 089000 ${Math.floor(T / 1000)}`,
    );
  });
  it('uses the local offset for %t unless utc is set', () => {
    const local = fmt('%t', rec(), false);
    const off = -new Date(T).getTimezoneOffset();
    const sign = off < 0 ? '-' : '+';
    const hhmm = `${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}${String(Math.abs(off) % 60).padStart(2, '0')}`;
    expect(local.endsWith(` ${sign}${hhmm}]`)).toBe(true);
  });
  it('prints server, protocol, port and process directives', () => {
    expect(fmt('%v %p %{canonical}p %{remote}p %H %m %U %q %P %{pid}P %l %%')).toBe(
      `example.com 80 80 50000 HTTP/1.1 GET /foo ?bar=baz ${process.pid} ${process.pid} - %`,
    );
  });
  it('prints %V from the Host header without its port, else SERVER_NAME', () => {
    expect(fmt('%V', rec({ env: env({ HTTP_HOST: 'Example.COM:8080' }) }))).toBe('example.com');
    expect(fmt('%V')).toBe('example.com');
  });
  it('prints %q as "?" when the target had an empty query, and empty without one', () => {
    expect(fmt('%q', rec({ env: env({ REQUEST_URI: '/foo?', QUERY_STRING: '' }) }))).toBe('?');
    expect(fmt('%q', rec({ env: env({ REQUEST_URI: '/foo', QUERY_STRING: '' }) }))).toBe('');
  });
  it('prints %u as -, "" or the escaped user as httpd does', () => {
    expect(fmt('%u')).toBe('-');
    expect(fmt('%u', rec({ env: env({ REMOTE_USER: '' } as Partial<Env>) }))).toBe('""');
    expect(fmt('%u', rec({ env: env({ REMOTE_USER: 'bob "x"' } as Partial<Env>) }))).toBe('bob \\"x\\"');
  });
  it('prints %{c}a from the reverse proxy peer key, falling back to REMOTE_ADDR', () => {
    expect(fmt('%a %{c}a')).toBe('192.0.2.7 192.0.2.7');
    expect(fmt('%a %{c}a', rec({ env: env({ 'plank.reverse_proxy.peer_addr': '10.0.0.1' }) }))).toBe(
      '192.0.2.7 10.0.0.1',
    );
  });
  it('prints %{VAR}e, %{Name}C cookies, %{Name}n notes, %L and %R', () => {
    const e = env({ HTTP_COOKIE: 'a=1; sid=xyz', 'plank.notes': { n1: 'v1' }, 'plank.log_id': 'abc' } as Partial<Env>);
    expect(fmt('%{SERVER_NAME}e %{psgi.url_scheme}e %{nope}e %{sid}C %{zz}C %{n1}n %L %R', rec({ env: e }))).toBe(
      'example.com http - xyz - v1 abc -',
    );
  });
  it('prints %X as X when aborted, - when the connection closes, + when kept alive', () => {
    expect(fmt('%X', rec({ aborted: true }))).toBe('X');
    expect(fmt('%X', rec({ headers: ['Connection', 'close'] }))).toBe('-');
    expect(fmt('%X', rec({ env: env({ SERVER_PROTOCOL: 'HTTP/1.0' }) }))).toBe('-');
    expect(fmt('%X')).toBe('+');
  });
  it('prints %f for file bodies only', () => {
    expect(fmt('%f', rec({ body: { path: '/srv/a b.txt' } }))).toBe('/srv/a b.txt');
    expect(fmt('%f')).toBe('-');
  });
  it('prints %I, %O and %S byte counts', () => {
    const e = env({ HTTP_HOST: 'a' });
    // "GET /foo?bar=baz HTTP/1.1\r\n" (27) + "HOST: a\r\n" (9) + "\r\n" (2)
    expect(fmt('%I %O %S', rec({ env: e }))).toBe('38 62 100');
  });
  it('applies status conditions and their negation', () => {
    const e = env({ HTTP_USER_AGENT: 'ua' });
    expect(fmt('%400,501{User-agent}i %!200{User-agent}i', rec({ env: e, status: 200 }))).toBe('- -');
    expect(fmt('%400,501{User-agent}i %!200{User-agent}i', rec({ env: e, status: 501 }))).toBe('ua ua');
    expect(fmt('%>s %<s %s', rec({ status: 404 }))).toBe('404 404 404');
  });
  it('escapes request data so a line cannot be split or forged', () => {
    const e = env({ REQUEST_URI: '/x"\n1.2.3.4 - - [', HTTP_USER_AGENT: 'evil\\"\r\n\x00\xff' });
    expect(fmt('"%r" "%{User-Agent}i"', rec({ env: e }))).toBe(
      '"GET /x\\"\\n1.2.3.4 - - [ HTTP/1.1" "evil\\\\\\"\\r\\n\\x00\\xff"',
    );
  });
  it('runs char and block handlers as Plack does, with - for empty results', () => {
    const line = compileFormat('%m %z %{HTTP_X_RAND_R}Z %{nothing}Z', {
      charHandlers: { z: (e) => e.HTTP_X_FORWARDED_FOR },
      blockHandlers: { Z: (block, e) => e[block as `HTTP_${string}`] },
    });
    expect(line(rec({ env: env({ HTTP_X_FORWARDED_FOR: 'herp derp', HTTP_X_RAND_R: 'station' }) }))).toBe(
      'GET herp derp station -',
    );
  });
  it('compiles to one function whose source holds no format text or argument as code', () => {
    // Quotes, backslashes, U+2028 and code-like text in literals and arguments stay data.
    const e = env({ 'HTTP_X"]);THROW(1);//': 'v', HTTP_X_A: 'ok' } as Partial<Env>);
    expect(fmt('"); throw 1; (" \u2028 %{X"]);throw(1);//}i %{X-A}i %400{X-A}i %!400{X-A}i', rec({ env: e }))).toBe(
      '"); throw 1; (" \u2028 v ok - ok',
    );
    // A template-literal look-alike in the format must stay text in the generated source.
    const template = ['`$', '{x}`'].join('');
    expect(fmt(`\u2028 ${template}%h`)).toBe(`\u2028 ${template}192.0.2.7`);
  });
  it('says whether the format needs the time of the last byte, so the clock is read once otherwise', () => {
    expect(compileFormat('combined').needsEnd).toBe(false);
    expect(compileFormat('common').needsEnd).toBe(false);
    expect(compileFormat('%D').needsEnd).toBe(true);
    expect(compileFormat('%{ms}T').needsEnd).toBe(true);
    expect(compileFormat('%{end:sec}t').needsEnd).toBe(true);
    expect(compileFormat('%h', { charHandlers: { z: () => 1 } }).needsEnd).toBe(true);
  });
  it('turns httpd backslash escapes in literal text into characters', () => {
    expect(fmt('%s\\t%s\\\\')).toBe('200\t200\\');
  });
  it('rejects unknown directives at compile time, naming them', () => {
    expect(() => compileFormat('%h %Q')).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_ACCESS_LOG_FORMAT', message: expect.stringContaining('%Q') }),
    );
    expect(() => compileFormat('%{x}Y')).toThrow(/%\{x\}Y/);
    expect(() => compileFormat('%{ms}T %{minutes}T')).toThrow(/minutes/);
    expect(() => compileFormat('%{x')).toThrow(/unterminated/);
    expect(() => compileFormat('100%')).toThrow(/%%/);
    expect(() => compileFormat('%{bogus}p')).toThrow(/bogus/);
  });
});

describe('strftime', () => {
  it('formats in the C locale', () => {
    expect(strftime('%a %A %b %B %d %e %H %I %j %m %M %p %S %y %Y %F %T %D %R %u %w %%', T, true)).toBe(
      'Wed Wednesday Mar March 04  4 05 05 063 03 06 AM 07 26 2026 2026-03-04 05:06:07 03/04/26 05:06 3 3 %',
    );
  });
  it('computes ISO weeks at year edges', () => {
    expect(strftime('%G-W%V', Date.UTC(2021, 0, 1), true)).toBe('2020-W53');
    expect(strftime('%G-W%V', Date.UTC(2024, 11, 30), true)).toBe('2025-W01');
  });
});

describe('compileFormat().needsResponse', () => {
  it('is true only when a directive reads the response', () => {
    expect(compileFormat('combined').needsResponse).toBe(false);
    expect(compileFormat('%{Content-Type}o').needsResponse).toBe(true);
    expect(compileFormat('%400{X}o').needsResponse).toBe(true);
    expect(compileFormat('%f').needsResponse).toBe(true);
    expect(compileFormat('%X').needsResponse).toBe(true);
    expect(compileFormat('%z', { charHandlers: { z: () => 1 } }).needsResponse).toBe(true);
  });
});
