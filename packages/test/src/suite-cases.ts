import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { onFinish } from '@plank/core';
import type { App, Env, FinishInfo } from '@plank/core';
import type { TestRequestInit, TestResponse } from './types.js';

/** Files the cases serve; created by the suite before the server starts. */
export type SuiteFixtures = {
  /** A small text file ("0123456789" ten times, 100 bytes). */
  small: string;
  /** A 3 MiB file of pseudo-random bytes. */
  big: string;
  bigSha1: string;
};

/** What a case's check gets: requests that reach this case's app. */
export type SuiteClient = {
  request(path: string, init?: TestRequestInit): Promise<TestResponse>;
  /** Sends the request line and header lines as raw bytes (the suite adds its routing header, `Connection: close` and the blank line). Socket servers only. */
  raw(head: string, body?: string): Promise<TestResponse>;
};

export type SuiteCase = {
  name: string;
  app: App;
  check(client: SuiteClient): Promise<void>;
  /** Needs raw bytes on a socket; not run in-process. */
  socketOnly?: true;
  /** Breaks the contract on purpose (to see the server cope), so it is not wrapped in lint(). */
  noLint?: true;
};

const text = (
  body: string | Uint8Array,
  status = 200,
  headers: string[] = [],
): [number, string[], Array<string | Uint8Array>] => [status, ['Content-Type', 'text/plain', ...headers], [body]];

async function readInput(env: Env): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of env['psgi.input']) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

const quiet = { write: (): boolean => true };
const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/**
 * The conformance cases every Plank server passes: Plack::Test::Suite's 36, re-expressed
 * for Plank, and the env and response rules that bite Node.js servers in particular.
 */
export function serverSuiteCases(fx: SuiteFixtures): SuiteCase[] {
  let cleaned = 0;
  let finished: FinishInfo | undefined;
  let generatorClosed = false;
  return [
    {
      name: 'GET passes the query string through',
      app: (env) => text(`Hello, ${env.QUERY_STRING}`),
      async check({ request }) {
        const res = await request('/?name=miyagawa');
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-type'], 'text/plain');
        assert.equal(res.text, 'Hello, name=miyagawa');
      },
    },
    {
      name: 'POST gives the body on psgi.input and its type and length as CONTENT_TYPE and CONTENT_LENGTH',
      app: async (env) =>
        text(`Hello, ${(await readInput(env)).toString()}`, 200, [
          'Client-Content-Length',
          env.CONTENT_LENGTH ?? '',
          'Client-Content-Type',
          env.CONTENT_TYPE ?? '',
        ]),
      async check({ request }) {
        const res = await request('/', {
          method: 'POST',
          body: 'name=tatsuhiko',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(res.headers['client-content-length'], '14');
        assert.equal(res.headers['client-content-type'], 'application/x-www-form-urlencoded');
        assert.equal(res.text, 'Hello, name=tatsuhiko');
      },
    },
    {
      name: 'a big POST of several megabytes arrives intact',
      app: async (env) => {
        const body = await readInput(env);
        return [
          200,
          ['Content-Type', 'application/octet-stream', 'Client-Content-Length', env.CONTENT_LENGTH ?? ''],
          [body],
        ];
      },
      async check({ request }) {
        const body = Buffer.alloc(4 * 1024 * 1024 + 7);
        for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 9)) & 0xff;
        const res = await request('/', {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/octet-stream' },
        });
        assert.equal(res.headers['client-content-length'], String(body.length));
        assert.equal(res.body.length, body.length);
        assert.equal(sha1(res.body), sha1(body));
      },
    },
    {
      name: 'psgi.url_scheme is http',
      app: (env) => text(env['psgi.url_scheme']),
      async check({ request }) {
        assert.equal((await request('/', { method: 'POST', body: '' })).text, 'http');
      },
    },
    {
      name: 'a Readable body (an fs stream) is sent whole',
      app: () => [200, ['Content-Type', 'text/plain'], createReadStream(fx.small)],
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.text, '0123456789'.repeat(10));
      },
    },
    {
      name: 'a file body is sent with the length the app declared',
      app: () => [200, ['Content-Type', 'image/jpeg', 'Content-Length', '100'], { path: fx.small }],
      async check({ request }) {
        const res = await request('/foo.jpg');
        assert.equal(res.headers['content-type'], 'image/jpeg');
        assert.equal(res.body.length, 100);
      },
    },
    {
      name: 'a bigger file body (3 MiB) arrives byte for byte',
      app: () => [
        200,
        ['Content-Type', 'application/octet-stream', 'Content-Length', String(3 * 1024 * 1024)],
        { path: fx.big },
      ],
      async check({ request }) {
        const res = await request('/kyoto.jpg');
        assert.equal(res.body.length, 3 * 1024 * 1024);
        assert.equal(sha1(res.body), fx.bigSha1);
      },
    },
    {
      name: 'a file body with start and end sends that inclusive range only',
      app: () => [206, ['Content-Type', 'text/plain', 'Content-Length', '5'], { path: fx.small, start: 12, end: 16 }],
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.status, 206);
        assert.equal(res.text, '23456');
      },
    },
    {
      name: 'a request header shows up as HTTP_*',
      app: (env) => text(env.HTTP_FOO ?? 'missing'),
      async check({ request }) {
        assert.equal((await request('/foo/?dankogai=kogaidan', { headers: { Foo: 'Bar' } })).text, 'Bar');
      },
    },
    {
      name: 'Cookie is HTTP_COOKIE and there is no env.COOKIE',
      app: (env) =>
        text(env.HTTP_COOKIE ?? 'missing', 200, [
          'X-Cookie',
          (env as unknown as Record<string, unknown>).COOKIE === undefined ? '0' : '1',
        ]),
      async check({ request }) {
        const res = await request('/', { headers: { Cookie: 'foo=bar' } });
        assert.equal(res.text, 'foo=bar');
        assert.equal(res.headers['x-cookie'], '0');
      },
    },
    {
      name: 'REQUEST_METHOD, PATH_INFO, QUERY_STRING, SERVER_NAME and SERVER_PORT are set from the request',
      app: (env) =>
        text(
          ['REQUEST_METHOD', 'PATH_INFO', 'QUERY_STRING', 'SERVER_NAME', 'SERVER_PORT']
            .map((k) => `${k}:${String(env[k as 'PATH_INFO'])}`)
            .join('\n'),
        ),
      async check({ request }) {
        const res = await request('/foo/?dankogai=kogaidan', { headers: { Host: '127.0.0.1:8123' } });
        assert.equal(
          res.text,
          'REQUEST_METHOD:GET\nPATH_INFO:/foo/\nQUERY_STRING:dankogai=kogaidan\nSERVER_NAME:127.0.0.1\nSERVER_PORT:8123',
        );
      },
    },
    {
      name: 'PATH_INFO is percent-decoded (RFC 3875)',
      app: (env) => text(env.PATH_INFO),
      async check({ request }) {
        assert.equal((await request('/foo/bar%2cbaz')).text, '/foo/bar,baz');
      },
    },
    {
      name: 'PATH_INFO is percent-decoded only once',
      app: (env) => text(env.PATH_INFO),
      async check({ request }) {
        assert.equal((await request('/foo/bar%252cbaz')).text, '/foo/bar%2cbaz');
      },
    },
    {
      name: 'PATH_INFO holds the decoded bytes one per character, so UTF-8 and invalid UTF-8 both survive',
      app: (env) => text(Buffer.from(`${env.PATH_INFO.length}:${env.PATH_INFO}`, 'latin1')),
      async check({ request }) {
        assert.deepEqual(
          (await request('/caf%C3%A9%FF')).body,
          Buffer.concat([Buffer.from('7:/caf'), Buffer.from([0xc3, 0xa9, 0xff])]),
        );
      },
    },
    {
      name: 'invalid percent-escapes stay as they are and %2F decodes to a slash',
      app: (env) => text(env.PATH_INFO),
      async check({ request }) {
        assert.equal((await request('/a%zz/b%2Fc%4')).text, '/a%zz/b/c%4');
      },
    },
    {
      name: 'repeated slashes in the path are kept',
      app: (env) => text(`${env.PATH_INFO}|${env.REQUEST_URI}`),
      async check({ request }) {
        assert.equal((await request('//a//b///c')).text, '//a//b///c|//a//b///c');
      },
    },
    {
      name: 'REQUEST_URI is the target exactly as sent',
      app: (env) => text(env.REQUEST_URI),
      async check({ request }) {
        assert.equal((await request('/foo/bar%20baz%73?x=a')).text, '/foo/bar%20baz%73?x=a');
      },
    },
    {
      name: 'QUERY_STRING is an empty string when there is no query',
      app: (env) => text(JSON.stringify(env.QUERY_STRING)),
      async check({ request }) {
        assert.equal((await request('/path')).text, '""');
      },
    },
    {
      name: 'SERVER_PROTOCOL is HTTP/1.x',
      app: (env) => text(env.SERVER_PROTOCOL),
      async check({ request }) {
        assert.match((await request('/')).text, /^HTTP\/1\.[01]$/);
      },
    },
    {
      name: 'SCRIPT_NAME is an empty string at the root',
      app: (env) => text(JSON.stringify(env.SCRIPT_NAME)),
      async check({ request }) {
        assert.equal((await request('/foo')).text, '""');
      },
    },
    {
      name: 'REMOTE_ADDR is the peer and REMOTE_PORT its port',
      app: (env) =>
        text(`${env.REMOTE_ADDR} ${/^\d+$/.test(env.REMOTE_PORT ?? '') ? 'port' : String(env.REMOTE_PORT)}`),
      async check({ request }) {
        assert.equal((await request('/')).text, '127.0.0.1 port');
      },
    },
    {
      name: 'psgi.errors is there to write to',
      app: (env) => text(String(typeof env['psgi.errors'].write === 'function')),
      async check({ request }) {
        assert.equal((await request('/has_errors')).text, 'true');
      },
    },
    {
      name: 'an iterable body is closed (its finally runs) once it has been sent',
      app: () => [
        200,
        ['Content-Type', 'text/plain'],
        (function* gen() {
          try {
            yield* ['1', '2', '3', '4'];
          } finally {
            generatorClosed = true;
          }
        })(),
      ],
      async check({ request }) {
        assert.equal((await request('/call_close')).text, '1234');
        assert.equal(generatorClosed, true);
      },
    },
    {
      name: 'the status line carries the code and its standard reason phrase',
      app: () => text('1'),
      async check({ request }) {
        const res = await request('/foo/?dankogai=kogaidan');
        assert.equal(`${res.status} ${res.statusText}`, '200 OK');
      },
    },
    {
      name: 'an app that throws gets a 500 and the server keeps serving',
      app: (env) => {
        env['psgi.errors'] = quiet;
        if (env.PATH_INFO === '/ok') return text('still here');
        throw new Error("Throwing an exception from app handler. Server shouldn't crash.");
      },
      async check({ request }) {
        assert.equal((await request('/')).status, 500);
        assert.equal((await request('/ok')).text, 'still here');
      },
    },
    {
      name: 'the 500 for a throwing app has a type, a length and a body, and HEAD gets the same headers without the body',
      app: (env) => {
        env['psgi.errors'] = quiet;
        throw new Error('thrown on purpose');
      },
      async check({ request }) {
        for (const method of ['GET', 'HEAD']) {
          const res = await request('/', { method });
          assert.equal(`${res.status} ${res.statusText}`, '500 Internal Server Error', method);
          assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', method);
          assert.equal(res.headers['content-length'], '21', method);
          assert.equal(res.text, method === 'HEAD' ? '' : 'Internal Server Error', method);
        }
      },
    },
    {
      name: 'an app that rejects gets a 500',
      app: (env) => {
        env['psgi.errors'] = quiet;
        return Promise.reject(new Error('rejected'));
      },
      async check({ request }) {
        assert.equal((await request('/')).status, 500);
      },
    },
    {
      name: 'a header sent twice is joined with ", "',
      app: (env) => text(env.HTTP_FOO ?? 'missing'),
      async check({ request }) {
        assert.equal((await request('/', { headers: ['Foo', 'bar', 'Foo', 'baz'] })).text, 'bar, baz');
      },
    },
    {
      name: 'repeated User-Agent and Referer are joined too (node:http would drop them)',
      app: (env) => text(`${env.HTTP_USER_AGENT}|${env.HTTP_REFERER}`),
      async check({ request }) {
        const res = await request('/', {
          headers: ['User-Agent', 'a', 'User-Agent', 'b', 'Referer', 'http://x/', 'Referer', 'http://y/'],
        });
        assert.equal(res.text, 'a, b|http://x/, http://y/');
      },
    },
    {
      name: 'a response header given twice is sent twice',
      app: () => [
        200,
        ['Content-Type', 'text/plain', 'X-Foo', 'foo', 'X-Foo', 'bar, baz', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
        ['hi'],
      ],
      async check({ request }) {
        const res = await request('/');
        assert.match(res.headers['x-foo'] ?? '', /foo,\s*bar,\s*baz/);
        const cookies = res.rawHeaders.filter(
          (_, i) => i % 2 === 1 && res.rawHeaders[i - 1]?.toLowerCase() === 'set-cookie',
        );
        assert.deepEqual(cookies, ['a=1', 'b=2']);
      },
    },
    {
      name: 'CONTENT_TYPE and CONTENT_LENGTH never appear as HTTP_CONTENT_*',
      app: (env) =>
        text(`${env.HTTP_CONTENT_TYPE}|${env.HTTP_CONTENT_LENGTH}|${env.CONTENT_TYPE}|${env.CONTENT_LENGTH}`),
      async check({ request }) {
        assert.equal(
          (await request('/', { method: 'POST', body: 'abc', headers: { 'Content-Type': 'text/x' } })).text,
          'undefined|undefined|text/x|3',
        );
      },
    },
    {
      name: 'a 304 carries no entity headers and no body',
      app: () => [304, [], []],
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.status, 304);
        assert.equal(res.body.length, 0);
        assert.equal(res.headers['content-type'], undefined);
        assert.equal(res.headers['content-length'], undefined);
        assert.equal(res.headers['transfer-encoding'], undefined);
      },
    },
    {
      name: 'a 204 has no body even when the app gives one',
      noLint: true,
      app: () => [204, [], ['ignored']],
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.status, 204);
        assert.equal(res.body.length, 0);
      },
    },
    {
      name: 'a header value of 8 KiB arrives whole',
      app: (env) => text(env.HTTP_X_FOO ?? 'missing'),
      async check({ request }) {
        const v = 'abcdefgh'.repeat(1024);
        assert.equal((await request('/', { headers: { 'X-Foo': v } })).text, v);
      },
    },
    {
      name: 'a delayed response (respond with the whole response) works',
      app: (env) => async (respond) => {
        await tick();
        respond(text(`Hello, ${env.QUERY_STRING}`));
      },
      async check({ request }) {
        const res = await request('/?name=miyagawa');
        assert.equal(res.status, 200);
        assert.equal(res.text, 'Hello, name=miyagawa');
      },
    },
    {
      name: 'a streaming response written through the Writer arrives in order',
      app: (env) => async (respond) => {
        const w = respond([200, ['Content-Type', 'text/plain']]);
        await w.write('Hello, ');
        await tick();
        await w.write(env.QUERY_STRING);
        await w.write(new Uint8Array([0x21]));
        await w.close();
      },
      async check({ request }) {
        const res = await request('/?name=miyagawa');
        assert.equal(res.headers['content-type'], 'text/plain');
        assert.equal(res.text, 'Hello, name=miyagawa!');
      },
    },
    {
      name: 'CRLF in a body stays body and never becomes a header',
      app: () => text('Foo: Bar\r\n\r\nHello World'),
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.headers.foo, undefined);
        assert.equal(res.text, 'Foo: Bar\r\n\r\nHello World');
      },
    },
    {
      name: 'a 404 goes out with its body',
      app: () => text('Not Found', 404),
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.status, 404);
        assert.equal(res.text, 'Not Found');
      },
    },
    {
      name: 'strings are sent as UTF-8 and an in-memory body gets a Content-Length',
      app: () => [200, ['Content-Type', 'text/plain; charset=utf-8'], ['héllo ', 'wörld ', '✓']],
      async check({ request }) {
        const res = await request('/');
        assert.equal(res.text, 'héllo wörld ✓');
        assert.equal(res.headers['content-length'], String(Buffer.byteLength('héllo wörld ✓')));
      },
    },
    {
      name: 'async iterables and web ReadableStreams are streamed',
      app: (env) =>
        env.PATH_INFO === '/web'
          ? [
              200,
              [],
              new ReadableStream<Uint8Array>({
                pull(c) {
                  c.enqueue(new TextEncoder().encode('web'));
                  c.close();
                },
              }),
            ]
          : [
              200,
              [],
              (async function* () {
                yield 'as';
                await tick();
                yield Buffer.from('ync');
              })(),
            ],
      async check({ request }) {
        assert.equal((await request('/async')).text, 'async');
        assert.equal((await request('/web')).text, 'web');
      },
    },
    {
      name: 'HEAD gets the headers a GET would and no body',
      app: () => [200, ['Content-Type', 'text/plain'], ['0123456789']],
      async check({ request }) {
        const res = await request('/', { method: 'HEAD' });
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-type'], 'text/plain');
        assert.equal(res.body.length, 0);
      },
    },
    {
      name: 'HEAD with a file body sends no body',
      app: () => [200, ['Content-Type', 'text/plain', 'Content-Length', '100'], { path: fx.small }],
      async check({ request }) {
        const res = await request('/', { method: 'HEAD' });
        assert.equal(res.headers['content-length'], '100');
        assert.equal(res.body.length, 0);
      },
    },
    {
      name: 'psgix.cleanup handlers run after the response',
      app: (env) => {
        if (env.PATH_INFO === '/check') return text(String(cleaned));
        if (env['psgix.cleanup'])
          env['psgix.cleanup.handlers']?.push(() => {
            cleaned++;
          });
        return text('done');
      },
      async check({ request }) {
        assert.equal((await request('/')).text, 'done');
        for (let i = 0; i < 50 && cleaned === 0; i++) await tick();
        assert.equal((await request('/check')).text, '1');
      },
    },
    {
      name: 'plank.finish handlers learn the status and body size once the response is out',
      app: (env) => {
        onFinish(env, (info) => {
          finished = info;
        });
        return text('12345', 201);
      },
      async check({ request }) {
        assert.equal((await request('/')).status, 201);
        for (let i = 0; i < 50 && finished === undefined; i++) await tick();
        assert.ok(finished);
        assert.equal(finished.status, 201);
        assert.equal(finished.bodyBytes, 5);
        assert.equal(finished.aborted, false);
      },
    },
    {
      name: 'request content is readable as a stream, like Plack::Request content',
      app: async (env) => text(await readInput(env)),
      async check({ request }) {
        assert.equal(
          (await request('/', { method: 'POST', body: 'body', headers: { 'Content-Type': 'text/plain' } })).text,
          'body',
        );
      },
    },
    {
      name: 'an invalid response header gives a 500, not a crash',
      noLint: true,
      app: (env) => {
        env['psgi.errors'] = quiet;
        return [200, ['Bad Header', 'x', 'X-Ok', 'bad\r\nvalue'], ['never']];
      },
      async check({ request }) {
        assert.equal((await request('/')).status, 500);
      },
    },
    {
      name: 'a streaming app that fails after the headers drops the connection instead of ending the body cleanly',
      app: (env) => async (respond) => {
        env['psgi.errors'] = quiet;
        const w = respond([200, ['Content-Type', 'text/plain']]);
        await w.write('partial');
        throw new Error('mid-body failure');
      },
      async check({ request }) {
        await assert.rejects(request('/'));
      },
    },
    {
      name: 'an absolute-form target is split into path and query, its host wins',
      socketOnly: true,
      app: (env) =>
        text(`${env.PATH_INFO}|${env.QUERY_STRING}|${env.SERVER_NAME}|${env.SERVER_PORT}|${env.REQUEST_URI}`),
      async check({ raw }) {
        const res = await raw('GET http://example.com:8080/a%41?q=1 HTTP/1.1\r\nHost: other');
        assert.equal(res.text, '/aA|q=1|example.com|8080|http://example.com:8080/a%41?q=1');
      },
    },
    {
      name: 'an HTTP/1.0 request is answered as HTTP/1.0 expects',
      socketOnly: true,
      app: (env) => text(env.SERVER_PROTOCOL),
      async check({ raw }) {
        const res = await raw('GET / HTTP/1.0');
        assert.equal(res.status, 200);
        assert.equal(res.text, 'HTTP/1.0');
        assert.equal(res.headers['transfer-encoding'], undefined);
      },
    },
    {
      name: 'a Readable body of strings is sent as UTF-8',
      app: () => [200, [], Readable.from(['ä', 'ö'])],
      async check({ request }) {
        assert.equal((await request('/')).text, 'äö');
      },
    },
  ];
}
