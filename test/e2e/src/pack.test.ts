import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printed } from './spawn.fixture.js';
import { freePort, until } from '@plank/test';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((d) =>
  existsSync(join(root, 'packages', d, 'package.json')),
);
const manifest = (dir: string): { name: string; private?: boolean } =>
  JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'plank-pack-'));
const tarballs = new Map<string, string>();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Packs with pnpm, as publishing would: workspace:^ becomes a real version range.
beforeAll(() => {
  for (const dir of packages) {
    const out = execFileSync('pnpm', ['pack', '--pack-destination', scratch], {
      cwd: join(root, 'packages', dir),
      encoding: 'utf8',
    });
    const file = out.trim().split('\n').pop() as string;
    tarballs.set(manifest(dir).name, file.startsWith('/') ? file : join(scratch, file));
  }
}, 120_000);

describe('every package as published', () => {
  it.each(packages)('%s passes publint and resolves its types for ESM and bundlers', async (dir) => {
    const { messages, pkg } = await publint({
      pkgDir: join(root, 'packages', dir),
      level: 'suggestion',
      strict: true,
      pack: 'pnpm',
    });
    expect(messages.map((m) => formatMessage(m, pkg))).toEqual([]);

    const tarball = tarballs.get(manifest(dir).name) as string;
    const result = await checkPackage(await createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
    // The packages are ESM-only (attw's "esm-only" profile): node10 and require() from CJS
    // resolution modes do not apply; Node >= 20.19 loads them with require(esm) anyway.
    const ignored = new Set(['node10', 'node16-cjs']);
    const problems =
      'problems' in result
        ? result.problems.filter((p) => !('resolutionKind' in p && ignored.has(p.resolutionKind as string)))
        : [];
    expect(problems).toEqual([]);
  });

  it('installs with plain npm outside the workspace and serves a builder app on a real socket', async () => {
    const project = join(scratch, 'project');
    execFileSync('mkdir', ['-p', project]);
    const deps = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
    // overrides make the packages' own @plank/* ranges resolve to these tarballs, not the registry.
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: deps, overrides: deps }),
    );
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: project,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    writeFileSync(
      join(project, 'server.mjs'),
      `import { builder } from '@plank/core';
       import { serve } from '@plank/server-node';
       const app = builder(({ enable, mount }) => {
         enable('Runtime');
         mount('/hello', (env) => [200, ['Content-Type', 'text/plain'], ['hi from ' + env.SCRIPT_NAME]]);
       });
       const h = await serve(app, { host: '127.0.0.1', port: 0 });
       console.log(h.url);`,
    );
    const child = spawn(process.execPath, ['server.mjs'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await printed(child, /^(\S+)\n/);
      const res = await fetch(new URL('/hello/x', url));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hi from /hello');
      expect(res.headers.get('x-runtime')).toMatch(/^\d+\.\d{6}$/);
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);

  it('runs a .ts app from a fresh `npm init -y` project under -s node, -s prefork and --check', async () => {
    // What a newcomer does: a project whose package.json says nothing about modules (npm init -y
    // writes "type": "commonjs", or no type with older npm), plankup and the prefork server.
    const project = join(scratch, 'fresh');
    execFileSync('mkdir', ['-p', project]);
    execFileSync('npm', ['init', '-y'], { cwd: project, stdio: 'pipe' });
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(pkg.type ?? 'commonjs').toBe('commonjs');
    const deps = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
    const wanted = ['@plank/cli', '@plank/core', '@plank/server-prefork'];
    pkg.dependencies = Object.fromEntries(wanted.map((name) => [name, deps[name]]));
    pkg.overrides = deps;
    writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project, stdio: 'pipe' });
    writeFileSync(
      join(project, 'app.ts'),
      `import { builder, type App } from '@plank/core';
       const hello: App = (env) => [200, ['Content-Type', 'text/plain'], [\`hello \${env.PATH_INFO}\`]];
       export default builder(({ enable }) => { enable('Runtime'); return hello; });`,
    );
    const plankup = join(project, 'node_modules/.bin/plankup');
    // Not the NODE_PATH that pnpm's vitest shim sets: it reaches every package of this workspace.
    const { NODE_PATH: _, ...env } = process.env;
    const check = execFileSync(plankup, ['--check', 'app.ts'], { cwd: project, env, encoding: 'utf8' });
    expect(check).toContain('configuration OK');
    expect(check).toMatch(/stack: +AccessLog → StackTrace → Lint → Runtime → hello/);
    for (const server of ['node', 'prefork']) {
      const port = await freePort();
      const child = spawn(
        plankup,
        ['-s', server, '-o', '127.0.0.1', '-p', String(port), '-E', 'deployment', 'app.ts'],
        { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await until(() => err.includes('listening on') || child.exitCode !== null, `plankup -s ${server}`);
        expect(err).toContain(`plankup: ${server} server listening on http://127.0.0.1:${port}/`);
        const res = await fetch(`http://127.0.0.1:${port}/there`);
        expect(await res.text()).toBe('hello /there');
        expect(res.headers.get('x-runtime')).toMatch(/^\d+\.\d{6}$/);
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    }
    // fastify is not installed with plankup: one line saying how to get it.
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(plankup, ['-s', 'fastify', '--check', 'app.ts'], {
        cwd: project,
        env,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toBe(
      'plankup: server "fastify" needs @plank/server-fastify, which is not installed: npm install @plank/server-fastify\n',
    );
  }, 180_000);
});
