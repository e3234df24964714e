import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '@plank/core';
import { testApp, until } from '@plank/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// A guide's files are the fenced blocks announced by `<!-- file: NAME -->`; its commands are
// the lines of its `sh` blocks, in order.
function readDoc(name: string): { files: Map<string, string>; commands: string[] } {
  const text = readFileSync(join(root, 'docs', name), 'utf8');
  const files = new Map<string, string>();
  for (const m of text.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g))
    files.set(m[1] as string, m[2] as string);
  const commands = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).trim().split('\n'));
  return { files, commands };
}

// `npm install` without a registry: the @plank packages as built in this workspace, the
// others as the workspace has them, linked into node_modules with their bins, as npm would.
// That the packages install from their tarballs is pack.test.ts's job; this checks the guide.
function install(project: string, command: string): void {
  for (const name of command
    .split(/\s+/)
    .slice(2)
    .filter((word) => !word.startsWith('-'))) {
    const source = name.startsWith('@plank/')
      ? join(root, 'packages', name.slice('@plank/'.length))
      : join(root, 'node_modules', name);
    if (!existsSync(join(source, 'package.json'))) throw new Error(`${command}: no package ${name} to install`);
    const target = join(project, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    if (!existsSync(target)) symlinkSync(source, target);
    const { bin } = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    const bins = typeof bin === 'string' ? { [name.split('/').pop() as string]: bin } : (bin ?? {});
    mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
    for (const [binName, file] of Object.entries(bins)) {
      const shim = join(project, 'node_modules', '.bin', binName);
      writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(target, file)}" "$@"\n`);
      chmodSync(shim, 0o755);
    }
  }
}

const npmEnv: NodeJS.ProcessEnv = { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: 'false', NPM_CONFIG_FUND: 'false' };
delete npmEnv.PLANK_ENV;
delete npmEnv.PLANK_TEST_IMPL;

// A script started in its own process group, so stopping it stops plankup and its workers.
type Running = { child: ChildProcess; output: () => string; url: Promise<string> };
function run(project: string, args: string[]): Running {
  const child = spawn('npm', args, { cwd: project, env: npmEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const seen = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve((m[1] as string).replace(/\/?$/, '/'));
    };
    child.stdout?.on('data', seen);
    child.stderr?.on('data', seen);
    child.on('exit', (code) => reject(new Error(`npm ${args.join(' ')} exited ${code}: ${output}`)));
  });
  return { child, output: () => output, url };
}

async function stop({ child }: Running): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-(child.pid as number), 'SIGTERM');
  const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// The complete lines of a log file once it has one (it is created before it is written).
const linesIn = (file: string): string | false => {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return text.endsWith('\n') && text;
};

describe('docs/first-project.md', () => {
  const { files, commands } = readDoc('first-project.md');
  const project = mkdtempSync(join(tmpdir(), 'plank-first-project-'));
  const runs = new Set<string>();
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  beforeAll(() => {
    // The project is built from the guide's own commands and files, outside the workspace.
    for (const command of commands) {
      if (/^mkdir \S+ && cd \S+$/.test(command))
        continue; // the project folder is made above
      else if (/^npm install /.test(command)) install(project, command);
      else if (/^npm (init -y|pkg set .*)$/.test(command))
        execFileSync('sh', ['-c', command], { cwd: project, env: npmEnv, stdio: 'pipe' });
      else if (/^npm (test|start|run \S+)$/.test(command)) runs.add(command);
      else throw new Error(`the guide has a command this test does not run: ${command}`);
    }
    for (const [name, content] of files) {
      mkdirSync(dirname(join(project, name)), { recursive: true });
      writeFileSync(join(project, name), content);
    }
  }, 60_000);

  it('makes an ES module package with the scripts it describes', () => {
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['dev', 'start', 'test', 'typecheck', 'prefork']));
    expect([...runs]).toEqual(['npm test', 'npm run typecheck', 'npm run dev', 'npm run prefork']);
  });

  it('passes its own test and type check', () => {
    const test = execFileSync('npm', ['test'], { cwd: project, env: npmEnv, encoding: 'utf8', stdio: 'pipe' });
    expect(test).toMatch(/1 passed/);
    execFileSync('npm', ['run', 'typecheck'], { cwd: project, env: npmEnv, stdio: 'pipe' });
  }, 90_000);

  it('serves in development with an access log on stderr', async () => {
    const dev = run(project, ['run', 'dev', '--', '-o', '127.0.0.1', '-p', '0']);
    try {
      const url = await dev.url;
      const res = await fetch(new URL('/?name=Ada', url));
      expect(await res.text()).toBe('Hello, Ada!\n');
      expect((await fetch(new URL('/css/site.css', url))).headers.get('content-type')).toBe('text/css; charset=utf-8');
      await until(() => dev.output().includes('"GET /?name=Ada HTTP/1.1" 200 '), 'the access log line on stderr');
    } finally {
      await stop(dev);
    }
  }, 60_000);

  it('serves in deployment with a combined access log in logs/access.log', async () => {
    const start = run(project, ['start', '--', '-o', '127.0.0.1', '-p', '0']);
    try {
      const url = await start.url;
      expect(await (await fetch(url)).text()).toBe('Hello, world!\n');
      const log = join(project, 'logs', 'access.log');
      const line = await until(() => linesIn(log), 'logs/access.log');
      expect(line).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 14 "-" "[^"]*"\n$/);
    } finally {
      await stop(start);
    }
  }, 60_000);

  it('serves with prefork workers', async () => {
    const prefork = run(project, ['run', 'prefork', '--', '-o', '127.0.0.1', '-p', '0', '--max-workers=2']);
    try {
      const url = await prefork.url;
      expect(await (await fetch(new URL('/?name=workers', url))).text()).toBe('Hello, workers!\n');
    } finally {
      await stop(prefork);
    }
  }, 60_000);
});

describe('docs/recipes.md', () => {
  const { files } = readDoc('recipes.md');
  const dir = mkdtempSync(join(tmpdir(), 'plank-recipes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = async (name: string): Promise<App> => {
    writeFileSync(join(dir, name), files.get(name) as string);
    return (await import(/* @vite-ignore */ join(dir, name))).default as App;
  };

  it('serves a static site at / with the app as fallback', async () => {
    mkdirSync(join(dir, 'public', 'about'), { recursive: true });
    writeFileSync(join(dir, 'public', 'index.html'), '<h1>home</h1>');
    writeFileSync(join(dir, 'public', 'about', 'index.html'), '<h1>about</h1>');
    await testApp(await load('site.ts'), async (request) => {
      expect((await request('/')).text).toBe('<h1>home</h1>');
      const about = await request('/about?x=1');
      expect([about.status, about.headers.location]).toEqual([301, '/about/?x=1']);
      expect((await request('/about/')).text).toBe('<h1>about</h1>');
      expect(JSON.parse((await request('/api/users')).text)).toEqual({ app: '/api/users' });
      expect(JSON.parse((await request('/', { method: 'POST', body: 'x' })).text)).toEqual({ app: '/' });
    });
  });

  it('logs the combined format followed by the microseconds taken', async () => {
    await testApp(await load('timed-log.ts'), async (request) => {
      expect((await request('/', { headers: { 'User-Agent': 'curl/8.5.0' } })).text).toBe('ok\n');
    });
    const log = join(dir, 'logs', 'access.log');
    const line = await until(() => linesIn(log), 'the log line');
    expect(line).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 3 "-" "curl\/8\.5\.0" \d+\n$/);
  });
});
