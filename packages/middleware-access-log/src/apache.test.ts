import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '@plank/core';
import { freePort, listen, rawRequest, until, which, type TestResponse } from '@plank/test';
import { accessLog } from './index.js';

const apache = which('apache2') ?? which('httpd');
const MODULES = ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules'].find((d) =>
  existsSync(d),
);

// Everything that comes from the request, plus status and body bytes (the app below answers
// with whatever httpd answered). Time, pid and the ports of the two servers are left out,
// and so are %L (httpd only makes an id when it wrote to its error log for the request)
// and %I: without the raw bytes from the server it is rebuilt from env, which cannot
// know about repeated or empty headers.
const FORMAT =
  '%h %a %{c}a %l %u "%r" %>s %s %b %B "%{Referer}i" "%{User-agent}i" %m "%U" "%q" %H "%{X-Test}i" %v %V %p %k %X %400,404{X-Test}i %!404,403{X-Test}i %%';

const H = 'Host: 127.0.0.1\r\nConnection: close\r\n';
const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];

const CASES: Array<[string, Buffer]> = [
  [
    'a plain request with a quoted, backslashed User-Agent',
    bytes(`GET /plain HTTP/1.1\r\n${H}User-Agent: ua "q" \\back\\ end\\\r\n\r\n`),
  ],
  ['quotes and backslashes in the path and query', bytes(`GET /a"b\\c?x="y"\\ HTTP/1.1\r\n${H}\r\n`)],
  [
    'percent-encoded control bytes, quotes and UTF-8 in the path',
    bytes(`GET /p%20q%C3%A9%22%5C%01%7F%0A?a=%22b%5C%0d HTTP/1.1\r\n${H}\r\n`),
  ],
  ['a tab inside a header value', bytes(`GET /t HTTP/1.1\r\n${H}X-Test: a\tb\r\n\r\n`)],
  [
    'raw UTF-8 in header values',
    bytes(
      `GET /u HTTP/1.1\r\n${H}X-Test: `,
      utf8('naïve ☃ 日本'),
      `\r\nUser-Agent: `,
      utf8('Müller/1.0 "x"'),
      '\r\n\r\n',
    ),
  ],
  [
    'raw bytes that are not UTF-8 in a header',
    bytes(`GET /l HTTP/1.1\r\n${H}X-Test: `, [0xe9, 0xff, 0x80, 0x22], '\r\n\r\n'),
  ],
  ['an empty query and an empty header value', bytes(`GET /e? HTTP/1.1\r\n${H}X-Test:\r\n\r\n`)],
  ['a repeated header', bytes(`GET /r HTTP/1.1\r\n${H}X-Test: one\r\nX-Test: two\r\n\r\n`)],
  ['an HTTP/1.0 request', bytes('GET /old HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')],
  [
    'a POST with a body',
    bytes(
      `POST /form HTTP/1.1\r\n${H}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2`,
    ),
  ],
  ['an unusual method', bytes(`PROPFIND /m HTTP/1.1\r\n${H}\r\n`)],
  [
    'very long values in the request line and headers',
    bytes(
      `GET /${'L'.repeat(3000)}?${'q"'.repeat(500)} HTTP/1.1\r\n${H}User-Agent: ${'u"\\'.repeat(1300)}\r\nReferer: http://x/${'r'.repeat(3000)}\r\n\r\n`,
    ),
  ],
  ['a status the condition matches', bytes(`GET /missing HTTP/1.1\r\n${H}X-Test: cond\r\n\r\n`)],
];

describe.skipIf(!apache && !process.env.CI)(
  'the same requests logged by Apache httpd mod_log_config and by accessLog',
  () => {
    let dir = '';
    let httpd: ChildProcess | undefined;
    let apachePort = 0;
    let ours: Awaited<ReturnType<typeof listen>> | undefined;
    const lines: string[] = [];
    let answer: TestResponse | undefined;
    let stderr = '';

    beforeAll(async () => {
      expect(apache, 'apache2 must be installed when CI is set').toBeTruthy();
      dir = mkdtempSync(join(tmpdir(), 'plank-al-httpd-'));
      // httpd drops to User/Group when started as root; they must be able to read the root.
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'htdocs'));
      writeFileSync(join(dir, 'htdocs', 'plain'), 'plain file\n');
      apachePort = await freePort();
      const root = process.getuid?.() === 0;
      const group = spawnSync('sh', ['-c', 'getent group nogroup >/dev/null && echo nogroup || echo nobody'], {
        encoding: 'utf8',
      }).stdout.trim();
      const conf = [
        `ServerRoot "${dir}"`,
        `PidFile "${dir}/httpd.pid"`,
        `ErrorLog "${dir}/error.log"`,
        `Mutex file:${dir} default`,
        `DefaultRuntimeDir "${dir}"`,
        ...['mpm_prefork', 'authz_core', 'log_config', 'unixd', 'logio']
          .filter((m) => existsSync(join(MODULES ?? '', `mod_${m}.so`)))
          .map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
        root ? `User nobody\nGroup ${group}` : `# running as ${userInfo().username}: no User/Group switch`,
        `Listen 127.0.0.1:${apachePort}`,
        'ServerName 127.0.0.1',
        `DocumentRoot "${dir}/htdocs"`,
        `<Directory />\n  AllowOverride None\n</Directory>`,
        `LogFormat "${FORMAT.replace(/"/g, '\\"')}" plank`,
        `CustomLog "${dir}/access.log" plank`,
      ].join('\n');
      writeFileSync(join(dir, 'httpd.conf'), `${conf}\n`);
      httpd = spawn(apache as string, ['-f', join(dir, 'httpd.conf'), '-X'], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      httpd.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      await until(
        () =>
          existsSync(join(dir, 'httpd.pid'))
            ? true
            : httpd?.exitCode !== null
              ? (() => {
                  throw new Error(`httpd exited: ${stderr}`);
                })()
              : undefined,
        'httpd to start',
      );

      const app: App = () => [answer?.status ?? 500, ['Content-Type', 'text/html'], [answer?.body ?? '']];
      ours = await listen(accessLog({ format: FORMAT, logger: (l) => lines.push(l) })(app));
    });

    afterAll(async () => {
      await ours?.close({ timeout: 1000 });
      if (httpd && httpd.exitCode === null) {
        const exited = new Promise((r) => httpd?.once('exit', r));
        httpd.kill('SIGTERM');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const apacheLines = (): string[] => {
      const text = existsSync(join(dir, 'access.log')) ? readFileSync(join(dir, 'access.log'), 'latin1') : '';
      return text === '' ? [] : text.slice(0, -1).split('\n');
    };

    for (const [name, request] of CASES) {
      it(`logs ${name} field for field as httpd does`, async () => {
        const before = apacheLines().length;
        const ourBefore = lines.length;
        answer = await rawRequest(apachePort, request);
        const theirs = await until(() => apacheLines()[before], 'the httpd log line');
        const res = await rawRequest(ours?.port as number, request);
        expect(res.status).toBe(answer.status);
        const mine = await until(() => lines[ourBefore], 'our log line');
        expect(mine.endsWith('\n')).toBe(true);
        expect(mine.slice(0, -1)).toBe(theirs);
      });
    }
  },
);
