import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@plank/test';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');

type Run = { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> };
const running: ChildProcess[] = [];
afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

// Each test gets its own app folder inside the workspace so @plank/* packages resolve.
function appDir(files: Record<string, string>): string {
  const base = join(root, 'test/e2e/.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'plankup-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const helloTs = `import type { App } from '@plank/core';
const app: App = (env) => [200, ['Content-Type', 'text/plain'], [\`hello \${env.SCRIPT_NAME}|\${env.PATH_INFO} \${process.env.PLANK_ENV}\`]];
export default app;
`;

function plankup(args: string[], cwd: string, options: { env?: Record<string, string>; uid?: number } = {}): Run {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, PLANK_ENV: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
  });
  running.push(child);
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function listening(run: Run, count = 1): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const urls = [...run.err().matchAll(/listening on (\S+)/g)].map((m) => m[1] as string);
    if (urls.length >= count) return urls;
    if (run.child.exitCode !== null) throw new Error(`plankup exited ${run.child.exitCode}: ${run.err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`plankup did not listen: ${run.err()}`);
}

describe('plankup', () => {
  it('serves app.ts by default, says where, and stops with exit 0 on SIGTERM', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    const port = await freePort();
    const run = plankup(['-o', '127.0.0.1', '-p', String(port), '-E', 'deployment'], dir);
    const [url] = await listening(run);
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    const res = await fetch(`${url}x`);
    expect(await res.text()).toBe('hello |/x deployment');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('wraps the app in AccessLog, StackTrace and Lint in development, and not in deployment', async () => {
    const dir = appDir({
      'app.js': `export default (env) => { if (env.PATH_INFO === '/boom') throw new Error('kaboom'); return [200, ['Content-Type', 'text/plain'], ['ok']]; };\n`,
    });
    const dev = plankup(['-o', '127.0.0.1', '-p', '0'], dir);
    const [url] = await listening(dev);
    const boom = await fetch(`${url}boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).toContain('kaboom');
    await fetch(`${url}ok`);
    await new Promise((r) => setTimeout(r, 200));
    expect(dev.err()).toMatch(/"GET \/ok HTTP\/1.1" 200 2 /);
    dev.child.kill('SIGTERM');
    await dev.exited;

    const prod = plankup(['-o', '127.0.0.1', '-p', '0', '-E', 'deployment'], dir);
    const [url2] = await listening(prod);
    expect((await fetch(`${url2}ok`)).status).toBe(200);
    const quiet = await fetch(`${url2}boom`);
    expect(quiet.status).toBe(500);
    expect(await quiet.text()).not.toContain('kaboom');
    await new Promise((r) => setTimeout(r, 200));
    expect(prod.err()).not.toMatch(/GET \/ok/);
  });

  it('--check loads the app and its middleware, prints the stack and binds nothing', async () => {
    const dir = appDir({
      'app.js': `import { builder } from '@plank/core';\nexport default builder(({ enable }) => { enable('Runtime'); return function site() { return [200, [], []]; }; });\n`,
    });
    const port = await freePort();
    const run = plankup(['--check', '-o', '127.0.0.1', '-p', String(port)], dir);
    expect(await run.exited).toBe(0);
    expect(run.out()).toContain('configuration OK');
    expect(run.out()).toContain(`listen:  127.0.0.1:${port}`);
    expect(run.out()).toMatch(/stack: +AccessLog → StackTrace → Lint → Runtime → site/);
    // Nothing was bound: the port is still free.
    await new Promise<void>((resolve, reject) => {
      const s = createServer()
        .once('error', reject)
        .listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it('--check fails with exit 1 naming an unknown middleware', async () => {
    const dir = appDir({
      'app.js': `import { builder } from '@plank/core';\nexport default builder(({ enable }) => { enable('NoSuchThing'); return () => [200, [], []]; });\n`,
    });
    const run = plankup(['--check'], dir);
    expect(await run.exited).toBe(1);
    expect(run.err()).toMatch(/^plankup: .*enable\("NoSuchThing"\): unknown middleware/);
    expect(run.err().trim().split('\n')).toHaveLength(1);
  });

  it('--check validates server options', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    const run = plankup(['--check', '--keepalive-timeout=soon'], dir);
    expect(await run.exited).toBe(1);
    expect(run.err()).toContain('--keepalive-timeout must be a number of seconds');
    const unknown = plankup(['--check', '--frobnicate=1'], dir);
    expect(await unknown.exited).toBe(1);
    expect(unknown.err()).toContain('unknown option --frobnicate');
  });

  it('exits with one line and a non-zero code on every error path', async () => {
    const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
      [['-p', 'http'], {}, 2, /^plankup: option -p must be a port number/],
      [['--bogus-flag'], {}, 2, /^plankup: server option --bogus-flag needs a value/],
      [['missing.ts'], {}, 1, /^plankup: app file not found: missing.ts$/],
      [[], {}, 1, /^plankup: no app: none of app.ts, app.js, app.mjs in /],
      [
        ['broken.ts'],
        { 'broken.ts': 'export default (env => ;\n' },
        1,
        /^plankup: cannot load \/\S+\/broken\.ts: \/\S+\/broken\.ts:1:24: syntax error: Unexpected ";"$/,
      ],
      [
        ['broken.js'],
        { 'broken.js': 'export default (env => ;\n' },
        1,
        /^plankup: cannot load \/\S+\/broken\.js: \/\S+\/broken\.js:1:24: syntax error: Unexpected token ';'$/,
      ],
      [
        ['broken.mjs'],
        { 'broken.mjs': 'const ok = 1;\nexport default (env =>\n  [200, [] []]);\n' },
        1,
        /^plankup: cannot load \/\S+\/broken\.mjs: \/\S+\/broken\.mjs:3:13: syntax error: Unexpected token '\]'$/,
      ],
      [
        ['imports.mjs'],
        { 'imports.mjs': "export { default } from './lib.js';\n", 'lib.js': 'export default 1 2;\n' },
        1,
        /^plankup: cannot load \/\S+\/imports\.mjs: \/\S+\/lib\.js:1:18: syntax error: Unexpected number$/,
      ],
      [
        ['broken.cjs'],
        { 'broken.cjs': 'module.exports = (env => ;\n' },
        1,
        /^plankup: cannot load \/\S+\/broken\.cjs: \/\S+\/broken\.cjs:1:26: syntax error: Unexpected token ';'$/,
      ],
      [
        ['throws.mjs'],
        { 'throws.mjs': "throw new Error('database is down');\nexport default () => [200, [], []];\n" },
        1,
        /^plankup: cannot load \/\S+\/throws\.mjs: database is down$/,
      ],
      [
        ['needs.mjs'],
        { 'needs.mjs': "import x from 'no-such-plank-dependency';\nexport default x;\n" },
        1,
        /^plankup: cannot load \/\S+\/needs\.mjs: Cannot find package 'no-such-plank-dependency' imported from \/\S+\/needs\.mjs$/,
      ],
      [
        ['-M', './pre.mjs', 'a.js'],
        { 'pre.mjs': 'export default 1 2;\n', 'a.js': 'export default () => [200, [], []];\n' },
        1,
        /^plankup: cannot load \/\S+\/pre\.mjs: \/\S+\/pre\.mjs:1:18: syntax error: Unexpected number$/,
      ],
      [['-e', '((=>'], {}, 1, /^plankup: -e: Unexpected token '=>'$/],
      [['notapp.js'], { 'notapp.js': 'export default 42;\n' }, 1, /the default export must be an app .*got 42/],
      [
        ['-s', 'nosuch', 'a.js'],
        { 'a.js': 'export default () => [200, [], []];\n' },
        1,
        /^plankup: unknown server "nosuch": no package @plank\/server-nosuch is installed \(servers: node, fastify, prefork, or \+package\)$/,
      ],
      [
        ['-s', '+no-such-plank-server', 'a.js'],
        { 'a.js': 'export default () => [200, [], []];\n' },
        1,
        /^plankup: server "\+no-such-plank-server" needs no-such-plank-server, which is not installed: npm install no-such-plank-server$/,
      ],
      [
        ['-M', 'no-such-plank-module', 'a.js'],
        { 'a.js': 'export default () => [200, [], []];\n' },
        1,
        /^plankup: -M no-such-plank-module: cannot find module from \//,
      ],
    ];
    for (const [args, files, code, message] of cases) {
      const run = plankup(args, appDir(files));
      expect({ args, code: await run.exited }).toEqual({ args, code });
      expect(run.err().trim()).toMatch(message);
      expect(run.err().trim().split('\n')).toHaveLength(1);
    }
  });

  it('says so when the port is in use', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const run = plankup(['-o', '127.0.0.1', '-p', String(port), 'app.ts'], appDir({ 'app.ts': helloTs }));
      expect(await run.exited).toBe(1);
      expect(run.err().trim()).toBe(`plankup: cannot listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      blocker.close();
    }
  });

  it('says so when listening is not permitted', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    chmodSync(dir, 0o755);
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    const asRoot = process.getuid?.() === 0;
    // root may write anywhere, so the test runs plankup as nobody there.
    const run = plankup(['-S', join(locked, 'plank.sock'), 'app.ts'], dir, asRoot ? { uid: 65534 } : {});
    expect(await run.exited).toBe(1);
    expect(run.err().trim()).toBe(`plankup: cannot listen on ${join(locked, 'plank.sock')}: permission denied`);
  });

  it('runs -e code as the app, or as a builder block around the app file', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    const inline = plankup(
      [
        '-o',
        '127.0.0.1',
        '-p',
        '0',
        '-E',
        'deployment',
        '-e',
        `(env) => [200, ['Content-Type', 'text/plain'], ['inline ' + env.PATH_INFO]]`,
      ],
      dir,
    );
    const [url] = await listening(inline);
    expect(await (await fetch(`${url}z`)).text()).toBe('inline /z');

    const around = plankup(
      ['-o', '127.0.0.1', '-p', '0', '-E', 'deployment', '-e', `enable('Runtime')`, 'app.ts'],
      dir,
    );
    const [url2] = await listening(around);
    const res = await fetch(`${url2}y`);
    expect(await res.text()).toBe('hello |/y deployment');
    expect(res.headers.get('x-runtime')).toMatch(/^\d+\.\d{6}$/);
  });

  it('listens on every -l address, including a unix socket', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    const [p1, p2] = [await freePort(), await freePort()];
    const sock = join(dir, 'plank.sock');
    const run = plankup(['-E', 'deployment', '-l', `127.0.0.1:${p1}`, '-l', `127.0.0.1:${p2}`, '-l', sock], dir);
    const urls = await listening(run, 3);
    expect(urls).toEqual([`http://127.0.0.1:${p1}/`, `http://127.0.0.1:${p2}/`, `unix:${sock}`]);
    for (const port of [p1, p2]) expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect(existsSync(sock)).toBe(true);
  });

  it('mounts the app under --path and preloads -M modules', async () => {
    const dir = appDir({
      'app.ts': helloTs,
      'preload.mjs': `process.env.PRELOADED = 'yes';\n`,
      'check.js': `export default () => [200, [], [process.env.PRELOADED ?? 'no']];\n`,
    });
    const run = plankup(['-o', '127.0.0.1', '-p', '0', '-E', 'deployment', '--path', '/app', 'app.ts'], dir);
    const [url] = await listening(run);
    expect(await (await fetch(`${url}app/x`)).text()).toBe('hello /app|/x deployment');
    expect((await fetch(`${url}other`)).status).toBe(404);

    const pre = plankup(['-o', '127.0.0.1', '-p', '0', '-M', './preload.mjs', 'check.js'], dir);
    const [url2] = await listening(pre);
    expect(await (await fetch(url2 as string)).text()).toBe('yes');
  });

  it('writes an access log to --access-log FILE', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    const run = plankup(
      ['-o', '127.0.0.1', '-p', '0', '-E', 'deployment', '--access-log', 'access.log', 'app.ts'],
      dir,
    );
    const [url] = await listening(run);
    await fetch(`${url}logged`);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toMatch(
      /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/logged HTTP\/1.1" 200 \d+ "-" "[^"]*"\n$/,
    );
  });

  it('serves the same app on fastify with -s fastify, passing server options through', async () => {
    const dir = appDir({ 'app.ts': helloTs });
    const run = plankup(
      ['-s', 'fastify', '-o', '127.0.0.1', '-p', '0', '-E', 'deployment', '--keepalive-timeout=2', 'app.ts'],
      dir,
    );
    const [url] = await listening(run);
    expect(run.err()).toContain('fastify server listening on');
    expect(await (await fetch(`${url}f`)).text()).toBe('hello |/f deployment');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const bad = plankup(['-s', 'fastify', '--check', '--keepalive-timeout=x', 'app.ts'], dir);
    expect(await bad.exited).toBe(1);
    expect(bad.err()).toContain('--keepalive-timeout');
  });

  it('adds the stack, and the stack of its cause, to the one line with --debug', async () => {
    const dir = appDir({ 'broken.mjs': 'export default 1 2;\n' });
    const run = plankup(['--debug', 'broken.mjs'], dir);
    expect(await run.exited).toBe(1);
    const lines = run.err().trim().split('\n');
    expect(lines[0]).toMatch(/^plankup: cannot load \/\S+broken\.mjs: \/\S+broken\.mjs:1:18: syntax error: /);
    expect(lines[1]).toMatch(/^PlankError: cannot load /);
    expect(run.err()).toMatch(/\nCaused by: SyntaxError: Unexpected number\n +at /);
  });

  it('loads .ts, .mts, .cts, .js, .cjs and .mjs apps in a package without "type", and says what to change when it cannot', async () => {
    // A package.json without "type" (what `npm init -y` wrote): .js and .ts are CommonJS by extension.
    const body = (name: string) => `[200, ['Content-Type', 'text/plain'], ['${name} ' + env.PATH_INFO]]`;
    const dir = appDir({
      'package.json': JSON.stringify({ name: 'typeless', version: '1.0.0' }),
      'esm.ts': `import { builder, type App } from '@plank/core';\nconst app: App = (env) => ${body('ts')};\nexport default builder(({ enable }) => { enable('Runtime'); return app; });\n`,
      'esm.mts': `import type { App } from '@plank/core';\nconst app: App = (env) => ${body('mts')};\nexport default app;\n`,
      'req.cts': `const { builder } = require('@plank/core');\nmodule.exports = builder(({ enable }: any) => { enable('Runtime'); return (env: any) => ${body('cts')}; });\n`,
      'req.ts': `const core = require('@plank/core');\nmodule.exports = core.builder(() => (env: any) => ${body('cjs-ts')});\n`,
      'esm.js': `import { builder } from '@plank/core';\nexport default builder(({ enable }) => { enable('Runtime'); return (env) => ${body('js')}; });\n`,
      'req.js': `const { builder } = require('@plank/core');\nmodule.exports = builder(({ enable }) => { enable('Runtime'); return (env) => ${body('cjs-js')}; });\n`,
      'req.cjs': `module.exports = (env) => ${body('cjs')};\n`,
      'esm.mjs': `export default (env) => ${body('mjs')};\n`,
      'tla.ts': `const greeting = await Promise.resolve('tla');\nexport default (env: unknown) => [200, [], [greeting]];\n`,
    });
    const expected: Record<string, string> = {
      'esm.ts': 'ts',
      'esm.mts': 'mts',
      'req.cts': 'cts',
      'req.ts': 'cjs-ts',
      'esm.js': 'js',
      'req.js': 'cjs-js',
      'req.cjs': 'cjs',
      'esm.mjs': 'mjs',
      'tla.ts': 'tla',
    };
    for (const [file, name] of Object.entries(expected)) {
      const run = plankup(['-o', '127.0.0.1', '-p', '0', '-E', 'deployment', file], dir);
      const [url] = await listening(run);
      const text = await (await fetch(`${url}x`)).text();
      expect({ file, text }).toEqual({ file, text: name === 'tla' ? 'tla' : `${name} /x` });
      run.child.kill('SIGTERM');
      expect({ file, code: await run.exited }).toEqual({ file, code: 0 });
    }
    // A module whose own package says CommonJS cannot hold top-level await: the line says what to do.
    const lib = join(dir, 'lib');
    mkdirSync(lib);
    writeFileSync(join(lib, 'package.json'), JSON.stringify({ type: 'commonjs' }));
    writeFileSync(
      join(lib, 'app.cts'),
      `const x = await Promise.resolve(1);\nmodule.exports = () => [200, [], [String(x)]];\n`,
    );
    const tla = plankup(['--check', 'lib/app.cts'], dir);
    expect(await tla.exited).toBe(1);
    expect(tla.err()).toMatch(
      /^plankup: cannot load \/\S+\/app\.cts: \/\S+\/app\.cts:1:11: top-level await needs an ES module, and this file is CommonJS: add "type": "module" to its package.json, or rename it to \.mts\/\.mjs\n$/,
    );
  }, 120_000);

  it('serves a .ts app of a package without "type" on -s fastify and -s prefork', async () => {
    const dir = appDir({
      'package.json': JSON.stringify({ name: 'typeless', version: '1.0.0' }),
      'app.ts': helloTs,
    });
    for (const server of ['fastify', 'prefork']) {
      const run = plankup(['-s', server, '-o', '127.0.0.1', '-p', String(await freePort()), '-E', 'deployment'], dir);
      const [url] = await listening(run);
      expect(await (await fetch(`${url}s`)).text()).toBe('hello |/s deployment');
      run.child.kill('SIGTERM');
      expect({ server, code: await run.exited }).toEqual({ server, code: 0 });
    }
  });

  it('prints its usage with -h and its version with -v, and exits 0', async () => {
    const dir = appDir({});
    const help = plankup(['-h'], dir);
    expect(await help.exited).toBe(0);
    expect(help.out()).toMatch(/^Usage: plankup \[options\]/);
    expect(help.out()).toContain('--check');
    const version = plankup(['--version'], dir);
    expect(await version.exited).toBe(0);
    expect(version.out()).toMatch(/^plankup \d+\.\d+\.\d+ \(node v\d+/);
  });

  it('takes the app from -a, and leaves out the development stack with --no-default-middleware', async () => {
    const dir = appDir({
      'site.js': `export default (env) => { if (env.PATH_INFO === '/boom') throw new Error('kaboom'); return [200, [], ['site']]; };\n`,
    });
    const run = plankup(['-o', '127.0.0.1', '-p', '0', '--no-default-middleware', '-a', 'site.js'], dir);
    const [url] = await listening(run);
    expect(await (await fetch(url as string)).text()).toBe('site');
    const boom = await fetch(`${url}boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('kaboom');
    await new Promise((r) => setTimeout(r, 200));
    expect(run.err()).not.toMatch(/"GET \/ HTTP/);
  });

  it('restarts the server with -R when a file in a watched folder changes', async () => {
    const dir = appDir({
      'app.js': `import { readFileSync } from 'node:fs';\nconst v = readFileSync(new URL('./conf/value.txt', import.meta.url), 'utf8');\nexport default () => [200, [], [v]];\n`,
    });
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf/value.txt'), 'first');
    const run = plankup(['-R', 'conf', '-o', '127.0.0.1', '-p', String(await freePort()), '-E', 'deployment'], dir);
    const [url] = await listening(run);
    expect(await (await fetch(url as string)).text()).toBe('first');
    writeFileSync(join(dir, 'conf/value.txt'), 'second');
    const deadline = Date.now() + 15_000;
    let body = 'first';
    while (body !== 'second' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      body = await fetch(url as string).then(
        (r) => r.text(),
        () => 'down',
      );
    }
    expect(body).toBe('second');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('restarts the server with -r when the app changes', async () => {
    const dir = appDir({ 'app.js': `export default () => [200, [], ['one']];\n` });
    const run = plankup(['-r', '-o', '127.0.0.1', '-p', String(await freePort()), '-E', 'deployment'], dir);
    const [url] = await listening(run);
    expect(await (await fetch(url as string)).text()).toBe('one');
    writeFileSync(join(dir, 'app.js'), `export default () => [200, [], ['two']];\n`);
    const deadline = Date.now() + 15_000;
    let body = 'one';
    while (body !== 'two' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      body = await fetch(url as string).then(
        (r) => r.text(),
        () => 'down',
      );
    }
    expect(body).toBe('two');
    expect(run.err()).toContain('app.js changed, restarting');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
