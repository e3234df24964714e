import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@plank/test';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const demo = join(root, 'apps/demo');
const scratch = mkdtempSync(join(tmpdir(), 'plank-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every path below `dir` with its type, size and modification time: what a write would change. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const path = join(at, entry.name);
      const s = statSync(path, { throwIfNoEntry: false });
      out.push(
        `${relative(dir, path)} ${entry.isDirectory() ? 'dir' : entry.isSymbolicLink() ? 'link' : 'file'} ${s?.size} ${s?.mtimeMs}`,
      );
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

function plankup(args: string[], env: Record<string, string>, uid?: number) {
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: demo,
    env: { ...process.env, PLANK_ENV: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exited, out: () => out, err: () => err };
}

describe('plankup --check on the demo app', () => {
  it('writes nothing and binds nothing: no log or scoreboard directory, no file, no symlink, the port still free', async () => {
    // The demo's logs and state go where DEMO_LOG_DIR and DEMO_STATE_DIR say: here, two
    // directories that do not exist yet, below one that must stay empty.
    const base = join(scratch, 'writes');
    mkdirSync(base);
    const env = { DEMO_LOG_DIR: join(base, 'logs'), DEMO_STATE_DIR: join(base, 'var') };
    const before = { demo: tree(demo), base: tree(base) };
    const port = await freePort();
    const run = plankup(['--check', '-E', 'deployment', '-o', '127.0.0.1', '-p', String(port), 'app.ts'], env);
    expect({ code: await run.exited, err: run.err() }).toEqual({ code: 0, err: '' });
    expect(run.out()).toContain('plankup: configuration OK');
    expect({ demo: tree(demo), base: tree(base) }).toEqual(before);
    await new Promise<void>((resolve, reject) => {
      const s = createServer()
        .once('error', reject)
        .listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it.each([
    ['log', 'DEMO_LOG_DIR'],
    ['scoreboard', 'DEMO_STATE_DIR'],
  ])('still fails, in one line, when the %s directory cannot be written', async (_what, variable) => {
    // As nobody, since root may write anywhere; the demo's files stay readable to everyone.
    const locked = join(scratch, `locked-${variable}`);
    mkdirSync(locked);
    chmodSync(scratch, 0o755);
    chmodSync(locked, 0o555);
    const asRoot = process.getuid?.() === 0;
    // The other directory is one plankup may write, so only the locked one can fail.
    const free = mkdtempSync(join(scratch, 'free-'));
    if (asRoot) chownSync(free, 65534, 65534);
    const env = { DEMO_LOG_DIR: join(free, 'logs'), DEMO_STATE_DIR: join(free, 'var') };
    const run = plankup(
      ['--check', '-E', 'deployment', 'app.ts'],
      { ...env, [variable]: join(locked, 'sub') },
      asRoot ? 65534 : undefined,
    );
    expect(await run.exited).toBe(1);
    expect(run.err()).toMatch(/^plankup: .*locked-/);
    expect(run.err().trim().split('\n')).toHaveLength(1);
  });
});
