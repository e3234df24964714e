import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type PlankError, resolveMiddleware } from './index.js';

// A scratch project with installed middleware packages, as npm lays them out.
const project = realpathSync(mkdtempSync(join(tmpdir(), 'plank-resolve-')));
const pkg = (name: string, source: string): void => {
  const root = join(project, 'node_modules', name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
  writeFileSync(join(root, 'index.js'), source);
};
const factory = '(app) => app';
pkg('@plank/middleware-access-log', `export const plankMiddleware = { AccessLog: () => ${factory} };`);
pkg(
  '@plank/middleware-server-status-lite',
  `export const plankMiddleware = { 'ServerStatus::Lite': () => ${factory} };`,
);
pkg('@plank/middleware-fake-thing', `export default () => ${factory};`);
pkg('@plank/middleware-broken', `throw new Error('cannot load');`);
afterAll(() => rmSync(project, { recursive: true, force: true }));

function messageOf(name: string, from?: string, code = 'PLANK_ERR_UNKNOWN_MIDDLEWARE'): string {
  try {
    resolveMiddleware(name, from);
  } catch (err) {
    expect((err as PlankError).code).toBe(code);
    return (err as Error).message;
  }
  throw new Error(`${name} resolved`);
}

describe('resolveMiddleware for a name that is not found', () => {
  it('suggests the installed middleware whose name is closest', () => {
    expect(messageOf('Acesslog', project)).toBe(
      `enable("Acesslog"): unknown middleware; did you mean "AccessLog"? ` +
        `(looked for @plank/middleware-acesslog from ${project} and where @plank/core is installed)`,
    );
    expect(messageOf('FakeThng', project)).toMatch(/did you mean "FakeThing"\?/);
  });

  it('suggests the closest name a package exports when the package has no factory of that name', () => {
    expect(messageOf('ServerStatus::lite', project, 'PLANK_ERR_MIDDLEWARE_EXPORT')).toBe(
      'enable("ServerStatus::lite"): package @plank/middleware-server-status-lite exports no middleware factory ' +
        '(plankMiddleware["ServerStatus::lite"] or default); did you mean "ServerStatus::Lite"?',
    );
  });

  it('suggests a built-in middleware, whose names are case-sensitive', () => {
    expect(messageOf('runtime', project)).toMatch(/^enable\("runtime"\): unknown middleware; did you mean "Runtime"\?/);
    expect(messageOf('ContentLenght', project)).toMatch(/did you mean "ContentLength"\?/);
  });

  it('asks whether it is installed when no name is close, and suggests nothing for +package', () => {
    expect(messageOf('Zzyzx', project)).toBe(
      'enable("Zzyzx"): unknown middleware; looked for @plank/middleware-zzyzx ' +
        `from ${project} and where @plank/core is installed (is it installed?)`,
    );
    expect(messageOf('+acess-log', project)).not.toMatch(/did you mean/);
  });

  it('does not look in node_modules/.bin when the main script is an installed tool', () => {
    const bin = join(project, 'node_modules', '.bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(join(project, 'node_modules', 'tool.js'), join(bin, 'plankup'));
    const [argv1, cwd] = [process.argv[1], process.cwd()];
    process.argv[1] = join(bin, 'plankup');
    process.chdir(project);
    try {
      const message = messageOf('Acesslog');
      expect(message).not.toContain('.bin');
      expect(message).toContain(`did you mean "AccessLog"? (looked for @plank/middleware-acesslog from ${project} and`);
    } finally {
      process.argv[1] = argv1 as string;
      process.chdir(cwd);
    }
  });

  it('still looks in the folder of a main script that is not an installed tool', () => {
    const scripts = join(project, 'scripts');
    mkdirSync(scripts, { recursive: true });
    const argv1 = process.argv[1];
    process.argv[1] = join(scripts, 'server.js');
    try {
      expect(messageOf('Zzyzx')).toContain(`${process.cwd()}, ${scripts} and where`);
    } finally {
      process.argv[1] = argv1 as string;
    }
  });
});
