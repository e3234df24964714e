import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'check-cycles.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'plank-cycles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function check(dir: string): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  return { status: run.status, out: run.stdout + run.stderr };
}

// A workspace of packages under packages/, each with a manifest and optional source files.
function workspace(name: string, packages: Record<string, { manifest?: object; src?: string }>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  for (const [pkg, { manifest = {}, src }] of Object.entries(packages)) {
    const pkgDir = join(dir, 'packages', pkg);
    mkdirSync(join(pkgDir, 'src'), { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: `@x/${pkg}`, ...manifest }));
    if (src !== undefined) writeFileSync(join(pkgDir, 'src', 'index.ts'), src);
  }
  return dir;
}

describe('scripts/check-cycles.mjs', () => {
  it('passes on this workspace', () => {
    const { status, out } = check(root);
    expect(out).toMatch(/no cycle among the production dependencies of \d+ workspace packages/);
    expect(status).toBe(0);
  });

  it('fails on a cycle of production dependencies, naming each link and why it exists', () => {
    const dir = workspace('declared', {
      a: { manifest: { dependencies: { '@x/b': 'workspace:^' } } },
      b: { src: "import { a } from '@x/a';\nexport const b = a;\n" },
      c: { manifest: { peerDependencies: { '@x/a': '*' } } },
    });
    const { status, out } = check(dir);
    expect(status).toBe(1);
    expect(out).toContain('a cycle among production dependencies: @x/a → @x/b → @x/a');
    expect(out).toContain('@x/a → @x/b (dependencies of @x/a)');
    expect(out).toContain('@x/b → @x/a (imported by packages/b/src/index.ts)');
  });

  it('allows a cycle through dev dependencies, test files and comments', () => {
    const dir = workspace('dev-only', {
      core: {
        manifest: { devDependencies: { '@x/test': 'workspace:^' } },
        src: "/** @example\n * import { run } from '@x/test';\n */\nexport const core = 1;\n",
      },
      test: { manifest: { dependencies: { '@x/core': 'workspace:^' } } },
    });
    writeFileSync(join(dir, 'packages', 'core', 'src', 'core.test.ts'), "import { run } from '@x/test';\n");
    expect(check(dir).status).toBe(0);
  });
});
