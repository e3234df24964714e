import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { printed } from './spawn.fixture.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packages = readdirSync(join(root, 'packages')).filter((d) =>
  existsSync(join(root, 'packages', d, 'package.json')),
);
const manifest = (dir: string): { name: string; private?: boolean } =>
  JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'plank-pack-'));
const tarballs = new Map<string, string>();

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
});
