import { describe, expect, it } from 'vitest';
import { buildEnv, percentDecode } from '@plank/server-node';
import type { RequestLike } from '@plank/server-node';

const req = (
  url: string,
  rawHeaders: string[] = ['Host', 'example.com:8080'],
  socket: RequestLike['socket'] = {},
): RequestLike => ({
  method: 'GET',
  url,
  httpVersion: '1.1',
  rawHeaders,
  socket: { remoteAddress: '::ffff:10.0.0.1', remotePort: 4000, localAddress: '127.0.0.1', localPort: 5000, ...socket },
});

describe('buildEnv', () => {
  it('decodes PATH_INFO once into bytes and keeps REQUEST_URI and QUERY_STRING raw', () => {
    const env = buildEnv(req('/caf%C3%A9/%252c/%zz%2F%41?q=%20'));
    expect(env.PATH_INFO).toBe('/caf\u00c3\u00a9/%2c/%zz/A');
    expect(env.REQUEST_URI).toBe('/caf%C3%A9/%252c/%zz%2F%41?q=%20');
    expect(env.QUERY_STRING).toBe('q=%20');
    expect(env.SCRIPT_NAME).toBe('');
  });

  it('keeps invalid UTF-8 and trailing or truncated escapes as they are', () => {
    expect(percentDecode('/%FF%fe')).toBe('/\u00ff\u00fe');
    expect(percentDecode('/a%4')).toBe('/a%4');
    expect(percentDecode('/a%')).toBe('/a%');
    expect(percentDecode('%41%')).toBe('A%');
  });

  it('joins every repeated header with ", " and moves Content-Type and Content-Length to CGI keys', () => {
    const env = buildEnv(
      req('/', [
        'Host',
        'a',
        'User-Agent',
        'x',
        'user-agent',
        'y',
        'Content-Type',
        'text/plain',
        'Content-Length',
        '3',
        'X-Multi-Word',
        'v',
      ]),
    );
    expect(env.HTTP_USER_AGENT).toBe('x, y');
    expect(env.CONTENT_TYPE).toBe('text/plain');
    expect(env.CONTENT_LENGTH).toBe('3');
    expect(env.HTTP_CONTENT_TYPE).toBeUndefined();
    expect(env.HTTP_CONTENT_LENGTH).toBeUndefined();
    expect(env.HTTP_X_MULTI_WORD).toBe('v');
  });

  it('takes SERVER_NAME and SERVER_PORT from Host, including IPv6 literals, else from the local address', () => {
    expect(buildEnv(req('/')).SERVER_NAME).toBe('example.com');
    expect(buildEnv(req('/')).SERVER_PORT).toBe('8080');
    expect(buildEnv(req('/', ['Host', '[::1]:81']))).toMatchObject({ SERVER_NAME: '[::1]', SERVER_PORT: '81' });
    expect(buildEnv(req('/', ['Host', 'plain']))).toMatchObject({ SERVER_NAME: 'plain', SERVER_PORT: '80' });
    expect(buildEnv(req('/', []))).toMatchObject({ SERVER_NAME: '127.0.0.1', SERVER_PORT: '5000' });
  });

  it('unmaps IPv4-mapped peers and fills the psgi keys', () => {
    const env = buildEnv(req('/'), { multiprocess: true });
    expect(env).toMatchObject({
      REMOTE_ADDR: '10.0.0.1',
      REMOTE_PORT: '4000',
      SERVER_PROTOCOL: 'HTTP/1.1',
      'psgi.url_scheme': 'http',
      'psgi.multiprocess': true,
      'psgi.run_once': false,
    });
    expect(env['psgi.errors']).toBe(process.stderr);
    expect(buildEnv(req('/', [], { remoteAddress: '::1' })).REMOTE_ADDR).toBe('::1');
  });

  it('splits an absolute-form target and lets its authority win over Host', () => {
    const env = buildEnv(req('http://other.test:9000/p%41th?x=1'));
    expect(env).toMatchObject({
      PATH_INFO: '/pAth',
      QUERY_STRING: 'x=1',
      SERVER_NAME: 'other.test',
      SERVER_PORT: '9000',
      REQUEST_URI: 'http://other.test:9000/p%41th?x=1',
    });
    expect(buildEnv(req('http://h.test?y'))).toMatchObject({
      PATH_INFO: '/',
      QUERY_STRING: 'y',
      SERVER_NAME: 'h.test',
    });
  });
});
