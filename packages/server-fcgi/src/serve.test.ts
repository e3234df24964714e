import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, lint } from '@plank/core';
import { until } from '@plank/test';
import { afterEach, describe, expect, it } from 'vitest';
import { FcgiClient } from './client.fixture.js';
import { decodeParams, encodeParams, encodeRecords, Type } from './protocol.js';
import { type FcgiServeOptions, type FcgiServer, serveFcgi } from './serve.js';

const GET = (uri: string, extra: Record<string, string> = {}) => ({
  REQUEST_METHOD: 'GET',
  REQUEST_URI: uri,
  QUERY_STRING: uri.split('?')[1] ?? '',
  SCRIPT_NAME: '',
  PATH_INFO: uri.split('?')[0] as string,
  SERVER_NAME: 'example.com',
  SERVER_PORT: '80',
  SERVER_PROTOCOL: 'HTTP/1.1',
  REMOTE_ADDR: '192.0.2.5',
  ...extra,
});

const echo: App = async (env) => {
  let body = '';
  for await (const chunk of env['psgi.input']) body += chunk;
  return [
    200,
    ['Content-Type', 'text/plain'],
    [
      `${env.REQUEST_METHOD} ${env.SCRIPT_NAME}|${env.PATH_INFO}?${env.QUERY_STRING} ${env['psgi.url_scheme']} ${env.REMOTE_ADDR} ${body}`,
    ],
  ];
};

let servers: FcgiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close({ timeout: 100 })));
  servers = [];
});
async function start(app: App, options: FcgiServeOptions = {}): Promise<FcgiServer> {
  const server = await serveFcgi(lint(app), { host: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  return server;
}

describe('serveFcgi', () => {
  it('answers a responder request with a CGI head, the body, and END_REQUEST complete', async () => {
    const server = await start(echo);
    const client = await FcgiClient.open({ port: server.port as number });
    const reply = await client.request(GET('/hello?x=1'));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain');
    expect(reply.body.toString()).toBe('GET |/hello?x=1 http 192.0.2.5 ');
    expect(reply.protocolStatus).toBe(0);
    await client.closed; // no FCGI_KEEP_CONN: the application closes the connection
  });

  it('streams a request body from STDIN records into psgi.input', async () => {
    const server = await start(echo);
    const client = await FcgiClient.open({ port: server.port as number });
    const body = 'x'.repeat(200_000);
    const reply = await client.request(
      { ...GET('/p'), REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(body.length) },
      { body },
    );
    expect(reply.body.toString()).toBe(`POST |/p? http 192.0.2.5 ${body}`);
  });

  it('serves several requests on one connection with FCGI_KEEP_CONN', async () => {
    const server = await start(echo);
    const client = await FcgiClient.open({ port: server.port as number });
    for (const id of [1, 2, 3]) {
      const reply = await client.request(GET(`/n${id}`), { id, keepConn: true });
      expect(reply.body.toString()).toContain(`|/n${id}?`);
    }
    expect(client.socket.destroyed).toBe(false);
    client.close();
  });

  it('answers FCGI_GET_VALUES, and FCGI_UNKNOWN_TYPE for a management record it does not know', async () => {
    const server = await start(echo, { maxConnections: 50 });
    const client = await FcgiClient.open({ port: server.port as number });
    client.send(
      encodeRecords(
        Type.GetValues,
        0,
        encodeParams([
          ['FCGI_MAX_CONNS', ''],
          ['FCGI_MPXS_CONNS', ''],
          ['OTHER', ''],
        ]),
      ),
    );
    client.send(encodeRecords(42, 0, Buffer.alloc(0)));
    await client.until(() => client.records.length >= 2);
    const [values, unknown] = client.records;
    expect(values?.type).toBe(Type.GetValuesResult);
    expect(decodeParams(values?.content as Buffer)).toEqual([
      ['FCGI_MAX_CONNS', '50'],
      ['FCGI_MPXS_CONNS', '0'],
    ]);
    expect(unknown?.type).toBe(Type.UnknownType);
    expect(unknown?.content[0]).toBe(42);
    client.close();
  });

  it('refuses a second request on a busy connection with FCGI_CANT_MPX_CONN, and roles other than responder', async () => {
    let release: () => void = () => {};
    const server = await start(() => new Promise((resolve) => (release = () => resolve([200, [], ['done']]))));
    const client = await FcgiClient.open({ port: server.port as number });
    client.begin(1, { keepConn: true });
    client.params(1, GET('/slow'));
    client.stdin(1, undefined);
    client.begin(2, { keepConn: true });
    await client.until(() => client.records.some((r) => r.requestId === 2));
    expect(client.records.find((r) => r.requestId === 2)?.content[4]).toBe(1); // FCGI_CANT_MPX_CONN
    release();
    await client.until(() => client.records.some((r) => r.requestId === 1 && r.type === Type.EndRequest));
    client.begin(3, { role: 2 }); // FCGI_AUTHORIZER
    await client.until(() => client.records.some((r) => r.requestId === 3));
    expect(client.records.find((r) => r.requestId === 3)?.content[4]).toBe(3); // FCGI_UNKNOWN_ROLE
    client.close();
  });

  it('ends an aborted request: the app sees its writer aborted and the finish handlers say so', async () => {
    let aborted: boolean | undefined;
    let writer: { aborted: boolean } | undefined;
    const server = await start((env) => (respond) => {
      (env['plank.finish'] as Array<(i: { aborted: boolean }) => void>).push((info) => {
        aborted = info.aborted;
      });
      writer = respond([200, ['Content-Type', 'text/plain']]);
    });
    const client = await FcgiClient.open({ port: server.port as number });
    client.begin(1, { keepConn: true });
    client.params(1, GET('/stream'));
    client.stdin(1, undefined);
    await until(() => writer !== undefined, 'the app to respond');
    client.send(encodeRecords(Type.AbortRequest, 1, Buffer.alloc(0)));
    await client.until(() => client.records.some((r) => r.type === Type.EndRequest));
    expect(writer?.aborted).toBe(true);
    expect(aborted).toBe(true);
    client.close();
  });

  it('answers params over the limit with 431, and malformed params with 400', async () => {
    const server = await start(echo, { maxParamsBytes: 2048 });
    const big = await FcgiClient.open({ port: server.port as number });
    expect((await big.request(GET('/', { HTTP_COOKIE: 'c'.repeat(4000) }))).status).toBe(431);
    const bad = await FcgiClient.open({ port: server.port as number });
    bad.begin(1);
    bad.send(encodeRecords(Type.Params, 1, Buffer.from([9, 9, 65])));
    bad.send(encodeRecords(Type.Params, 1, Buffer.alloc(0)));
    await bad.until(() => bad.records.some((r) => r.type === Type.EndRequest));
    expect(bad.records[0]?.content.toString()).toMatch(/^Status: 400 /);
  });

  it('closes the connection on a record of another version, with one line on the error stream', async () => {
    const lines: string[] = [];
    const server = await start(echo, { errors: { write: (s: string) => lines.push(s) } });
    const client = await FcgiClient.open({ port: server.port as number });
    const record = encodeRecords(Type.BeginRequest, 1, Buffer.alloc(8));
    record[0] = 9;
    client.send(record);
    await client.closed;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^FastCGI: FastCGI record of version 9 .*closing the connection/);
  });

  it('sends psgi.errors to the web server as FCGI_STDERR during the request', async () => {
    const server = await start((env) => {
      env['psgi.errors'].write('a warning\n');
      return [200, [], ['ok']];
    });
    const client = await FcgiClient.open({ port: server.port as number });
    expect((await client.request(GET('/'))).stderr).toBe('a warning\n');
  });

  it('sends a file body and answers an app that throws with 500 and its stack on the error stream', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-'));
    try {
      await writeFile(join(dir, 'f.txt'), 'file contents');
      const server = await start((env) => {
        if (env.PATH_INFO === '/boom') throw new Error('kaboom');
        return [200, ['Content-Type', 'text/plain'], { path: join(dir, 'f.txt') }];
      });
      const a = await FcgiClient.open({ port: server.port as number });
      expect((await a.request(GET('/file'))).body.toString()).toBe('file contents');
      const b = await FcgiClient.open({ port: server.port as number });
      const reply = await b.request(GET('/boom'));
      expect(reply.status).toBe(500);
      expect(reply.stderr).toContain('Error: kaboom');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the scheme from HTTPS and sends no body for HEAD', async () => {
    const server = await start(echo);
    const a = await FcgiClient.open({ port: server.port as number });
    expect((await a.request(GET('/s', { HTTPS: 'on' }))).body.toString()).toContain(' https ');
    const b = await FcgiClient.open({ port: server.port as number });
    const head = await b.request(GET('/s', { REQUEST_METHOD: 'HEAD' }));
    expect(head.headers['content-type']).toBe('text/plain');
    expect(head.body.length).toBe(0);
  });

  it('listens on a unix socket with the mode asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plank-fcgi-'));
    try {
      const path = join(dir, 'app.sock');
      await start(echo, { host: undefined, port: undefined, socket: path, socketMode: 0o660 });
      expect((await stat(path)).mode & 0o777).toBe(0o660);
      const client = await FcgiClient.open({ path });
      expect((await client.request(GET('/u'))).body.toString()).toContain('|/u?');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses unknown options when it starts', async () => {
    await expect(serveFcgi(echo, { sokcet: '/x' } as never)).rejects.toMatchObject({
      code: 'PLANK_ERR_SERVER_FCGI_OPTION',
      message: expect.stringContaining('did you mean "socket"'),
    });
  });
});
