import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { builder } from '@plank/core';
import { testApp } from '@plank/test';
import { afterAll, describe, expect, it } from 'vitest';
import { accessLog } from './index.js';

const tmp = mkdtempSync(join(tmpdir(), 'plank-al-writable-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every path under `dir` with its type and size: what a build must leave as it found it. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      out.push(`${relative(dir, p)} ${e.isDirectory() ? 'dir' : e.isSymbolicLink() ? 'link' : st.size}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('accessLog: building an app writes nothing', () => {
  it('checks the log directory at build time and creates the directory, file, owner file and symlink at the first request', async () => {
    const root = join(tmp, 'app');
    mkdirSync(root);
    writeFileSync(join(root, 'app.ts'), '');
    const before = tree(root);
    const log = accessLog({
      format: '%U',
      file: join(root, 'var/logs/access.%DATE%.log'),
      rotate: 'daily',
      keep: 14,
      symlink: true,
    });
    const app = builder(({ enable }) => {
      enable(log);
      return () => [200, ['Content-Type', 'text/plain'], ['ok']];
    });
    expect(tree(root)).toEqual(before);
    await testApp(app, async (request) => {
      expect((await request('/first')).status).toBe(200);
    });
    await log.flush();
    expect(tree(root).map((l) => l.replace(/\d{4}-\d\d-\d\d/, 'DAY'))).toEqual([
      'app.ts 0',
      'var dir',
      'var/logs dir',
      'var/logs/.access.DATE.log.owner 0'.replace(' 0', ` ${String(process.pid).length}`),
      'var/logs/access.DAY.log 7',
      'var/logs/access.log link',
    ]);
    await log.close();
  });

  it('fails at build time, naming the option and the directory, when the log directory is on a read-only disk', () => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro);
    // Root may write anywhere but a read-only file system: a real EROFS.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]);
    try {
      expect(() => accessLog({ file: join(ro, 'logs/access.log') })).toThrow(
        expect.objectContaining({
          code: 'PLANK_ERR_ACCESS_LOG_OPTION',
          message: expect.stringMatching(
            /^AccessLog: option "file" must name a place this process can write \(directory ".*\/ro" is not writable \(EROFS\)\), got ".*\/ro\/logs\/access.log"$/,
          ),
        }),
      );
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      execFileSync('umount', ['-l', ro]);
    }
  });

  it('fails at build time when a file stands where the log directory should be, or the symlink cannot be made', () => {
    const d = join(tmp, 'blocked');
    mkdirSync(d);
    writeFileSync(join(d, 'logs'), '');
    const before = tree(d);
    expect(() => accessLog({ file: join(d, 'logs/sub/access.log') })).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_ACCESS_LOG_OPTION',
        message: expect.stringMatching(/logs" is not a directory/),
      }),
    );
    expect(() => accessLog({ file: join(d, 'a.%DATE%.log'), symlink: join(d, 'logs/current') })).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_ACCESS_LOG_OPTION',
        message: expect.stringMatching(/option "symlink"/),
      }),
    );
    expect(() => accessLog({ file: d })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/is a directory/) }),
    );
    expect(tree(d)).toEqual(before);
  });
});
