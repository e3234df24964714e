import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFrom } from './resolve.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'plank-cli-resolve-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A directory with `node_modules/<name>` installed, its main file saying where it lives. */
function withPackage(dir: string, name: string): string {
  const pkg = join(root, dir, 'node_modules', name);
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'main.js' }));
  writeFileSync(join(pkg, 'main.js'), `module.exports = ${JSON.stringify(dir)};\n`);
  return join(root, dir);
}

describe('resolveFrom', () => {
  it('finds a package from the first directory that has it installed, then the next', () => {
    const app = withPackage('app', 'plank-adapter');
    const tool = withPackage('tool', 'plank-adapter');
    const bare = join(root, 'bare');
    mkdirSync(bare);
    expect(resolveFrom('plank-adapter', [app, tool])).toBe(join(app, 'node_modules/plank-adapter/main.js'));
    expect(resolveFrom('plank-adapter', [bare, tool])).toBe(join(tool, 'node_modules/plank-adapter/main.js'));
    expect(resolveFrom('plank-adapter/package.json', [bare, app])).toBe(
      join(app, 'node_modules/plank-adapter/package.json'),
    );
  });

  it("throws the first directory's MODULE_NOT_FOUND when none has it", () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    mkdirSync(a);
    mkdirSync(b);
    let thrown: unknown;
    try {
      resolveFrom('no-such-plank-package', [a, b]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'MODULE_NOT_FOUND', message: expect.stringContaining(join(a, 'noop.js')) });
  });
});
