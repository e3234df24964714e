import { describe, expect, it } from 'vitest';
import { listenSpecs } from './listen.js';
import { parseArgs } from './options.js';

const parse = (...argv: string[]) => parseArgs(argv, {});
const listen = (...argv: string[]) => listenSpecs(parse(...argv));

describe('plankup options (Plack::Runner table)', () => {
  it('defaults to port 5000 on all interfaces, the node server and development', () => {
    const o = parse();
    expect(listenSpecs(o)).toEqual([{ port: 5000 }]);
    expect(o.server).toBe('node');
    expect(o.env).toBe('development');
    expect(o.defaultMiddleware).toBe(true);
  });

  it('combines -o and -p into one listen address', () => {
    expect(listen('-p', '9000', '-o', '127.0.0.1')).toEqual([{ host: '127.0.0.1', port: 9000 }]);
    expect(listen('--host=127.0.0.1', '--port=9000')).toEqual([{ host: '127.0.0.1', port: 9000 }]);
    expect(listen('-p9000')).toEqual([{ port: 9000 }]);
  });

  it('takes repeated -l as HOST:PORT, :PORT or a socket path, and ignores -p then', () => {
    expect(listen('-l', ':5000', '-l', ':5001')).toEqual([{ port: 5000 }, { port: 5001 }]);
    expect(listen('-l', '127.0.0.1:8080', '-l', '/tmp/plank.sock', '-p', '9999')).toEqual([
      { host: '127.0.0.1', port: 8080 },
      { socket: '/tmp/plank.sock' },
    ]);
    expect(listen('-l', '[::1]:8080')).toEqual([{ host: '::1', port: 8080 }]);
    expect(listen('--listen', 'localhost:80')).toEqual([{ host: 'localhost', port: 80 }]);
  });

  it('listens on -S alone, and adds it to -l addresses', () => {
    expect(listen('-S', '/tmp/a.sock')).toEqual([{ socket: '/tmp/a.sock' }]);
    expect(listen('-l', ':80', '-S', '/tmp/a.sock')).toEqual([{ port: 80 }, { socket: '/tmp/a.sock' }]);
  });

  it('passes unknown options to the server: --key=value, --key value, --enable-x, --disable-x', () => {
    expect(
      parse('--max-workers=4', '--spawn_interval', '1', '--enable-foo', '--disable-bar', 'app.ts').serverOptions,
    ).toEqual({
      'max-workers': '4',
      'spawn-interval': '1',
      foo: true,
      bar: false,
    });
    expect(parse('--max-workers=4', 'app.ts').app).toBe('app.ts');
  });

  it('listens on $PORT when no -p, -l or -S says otherwise, and never reads $HOST', () => {
    const env = { PORT: '8080', HOST: 'my-laptop' };
    expect(listenSpecs(parseArgs([], env))).toEqual([{ port: 8080 }]);
    expect(listenSpecs(parseArgs(['-o', '127.0.0.1'], env))).toEqual([{ host: '127.0.0.1', port: 8080 }]);
    expect(listenSpecs(parseArgs(['-p', '9000'], env))).toEqual([{ port: 9000 }]);
    expect(listenSpecs(parseArgs(['-l', ':7000'], env))).toEqual([{ port: 7000 }]);
    expect(listenSpecs(parseArgs(['-S', '/tmp/a.sock'], env))).toEqual([{ socket: '/tmp/a.sock' }]);
    expect(listenSpecs(parseArgs([], { PORT: '' }))).toEqual([{ port: 5000 }]);
    expect(() => parseArgs([], { PORT: 'eighty' })).toThrow(/^\$PORT must be a port number \(0-65535\), got "eighty"$/);
  });

  it('lets PLANK_ENV win over -E, as PLACK_ENV does', () => {
    expect(parse('-E', 'deployment').env).toBe('deployment');
    expect(parseArgs(['-E', 'deployment'], { PLANK_ENV: 'staging' }).env).toBe('staging');
  });

  it('collects -M (also cuddled), -e, -R (comma lists, implying -r) and the flags', () => {
    const o = parse(
      '-M',
      'a',
      '-Mb',
      '-e',
      'enable("Runtime")',
      '-R',
      'lib,conf',
      '--no-default-middleware',
      '--check',
      '--access-log',
      'x.log',
      '--path',
      '/app',
    );
    expect(o.modules).toEqual(['a', 'b']);
    expect(o.eval).toBe('enable("Runtime")');
    expect(o.watch).toEqual(['lib', 'conf']);
    expect(o.reload).toBe(true);
    expect(o.defaultMiddleware).toBe(false);
    expect(o.check).toBe(true);
    expect(o.accessLog).toBe('x.log');
    expect(o.path).toBe('/app');
  });

  it('rejects bad input with a message naming the option', () => {
    expect(() => parse('-p', 'http')).toThrow(/option -p must be a port number \(0-65535\), got "http"/);
    expect(() => parse('-p', '70000')).toThrow(/-p must be a port number/);
    expect(() => parse('-o')).toThrow(/option -o needs a value/);
    expect(() => parse('-x')).toThrow(/unknown option -x/);
    expect(() => parse('a.ts', 'b.ts')).toThrow(/one app file at most/);
    expect(() => parse('--path', 'app')).toThrow(/--path must be a mount path/);
    expect(() => listen('-l', 'host:port')).toThrow(/expected HOST:PORT/);
    expect(() => parse('--check=yes')).toThrow(/takes no value/);
    expect(() => parse('--workers')).toThrow(/server option --workers needs a value/);
  });

  it("says which of plankup's own options a near miss meant, instead of passing it to the server", () => {
    expect(() => parse('--chek')).toThrow(/^unknown option --chek \(did you mean --check\?\)$/);
    expect(() => parse('--sever=prefork')).toThrow(/^unknown option --sever \(did you mean --server\?\)$/);
    expect(() => parse('--acess-log', 'x.log')).toThrow(/did you mean --access-log\?/);
    expect(() => parse('--no-default-middlware')).toThrow(/did you mean --no-default-middleware\?/);
    // Server options stay the server's, however short or long.
    expect(parse('--max-workers=4', '--timeout=5', '--enable-logger', '--spawn-interval', '1').serverOptions).toEqual({
      'max-workers': '4',
      timeout: '5',
      logger: true,
      'spawn-interval': '1',
    });
  });
});
