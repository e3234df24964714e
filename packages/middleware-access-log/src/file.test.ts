import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSink } from './file.js';

const tmp = mkdtempSync(join(tmpdir(), 'plank-al-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dir = (): string => {
  const d = join(tmp, String(n++));
  return d;
};

describe('fileSink', () => {
  it('appends lines, batched per turn, and flushes on close', async () => {
    const d = dir();
    const sink = fileSink({ path: join(d, 'access.log') }, (e) => {
      throw e;
    });
    for (let i = 0; i < 1000; i++) sink.write(`line ${i}\n`);
    // Nothing is created before the first batch is written.
    expect(existsSync(d)).toBe(false);
    await sink.close();
    const lines = readFileSync(join(d, 'access.log'), 'utf8').split('\n');
    expect(lines.length).toBe(1001);
    expect(lines[999]).toBe('line 999');
  });

  it('moves to a new time-named file at the boundary, keeps the symlink on the newest and prunes past keep', async () => {
    const d = dir();
    const errors: Error[] = [];
    const sink = fileSink(
      { path: join(d, 'access.%DATE%.log'), rotate: '1s', keep: 1, symlink: true, utc: true },
      (e) => errors.push(e),
    );
    sink.write('first\n');
    await sink.flush();
    const first = readdirSync(d).filter((f) => f.endsWith('.log') && f !== 'access.log');
    expect(first.length).toBe(1);
    // wait into the next second
    const boundary = Math.ceil(Date.now() / 1000) * 1000 + 20;
    await new Promise((r) => setTimeout(r, boundary - Date.now()));
    sink.write('second\n');
    await sink.flush();
    const files = readdirSync(d).filter((f) => /^access\.\d{4}-\d\d-\d\d-\d{6}\.log$/.test(f));
    expect(files.length).toBe(1);
    expect(files[0]).not.toBe(first[0]);
    expect(readFileSync(join(d, files[0] as string), 'utf8')).toBe('second\n');
    expect(readlinkSync(join(d, 'access.log'))).toBe(files[0]);
    expect(readFileSync(join(d, 'access.log'), 'utf8')).toBe('second\n');
    await sink.close();
    expect(existsSync(join(d, '.access.DATE.log.owner'))).toBe(false);
    expect(errors).toEqual([]);
  });

  it('reports a file it cannot open instead of throwing', async () => {
    writeFileSync(join(tmp, `blocker${n}`), '');
    const errors: Error[] = [];
    const sink = fileSink({ path: join(tmp, `blocker${n}`, 'access.log') }, (e) => errors.push(e));
    sink.write('lost?\n');
    await sink.flush();
    expect(errors.length).toBe(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toMatch(/ENOTDIR|EEXIST/);
    await sink.close();
  });

  it('takes over the owner file of a process that died', async () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const sink0 = fileSink({ path: join(d, 'a.%DATE%.log'), rotate: 'daily' }, () => {});
    sink0.write('zero\n');
    await sink0.close();
    writeFileSync(join(d, '.a.DATE.log.owner'), String(dead));
    const sink = fileSink({ path: join(d, 'a.%DATE%.log'), rotate: 'daily', symlink: true }, () => {});
    sink.write('one\n');
    await sink.flush();
    expect(readFileSync(join(d, '.a.DATE.log.owner'), 'utf8')).toBe(String(process.pid));
    await sink.close();
  });

  it('leaves retention to the live owner', async () => {
    const d = dir();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      const s0 = fileSink({ path: join(d, 'b.%DATE%.log'), rotate: 'daily' }, () => {});
      s0.write('zero\n');
      await s0.close();
      writeFileSync(join(d, '.b.DATE.log.owner'), String(other.pid));
      writeFileSync(join(d, 'b.2000-01-01.log'), 'old\n');
      const sink = fileSink({ path: join(d, 'b.%DATE%.log'), rotate: 'daily', keep: 1, symlink: true }, () => {});
      sink.write('one\n');
      await sink.close();
      expect(existsSync(join(d, 'b.2000-01-01.log'))).toBe(true);
      expect(existsSync(join(d, 'b.log'))).toBe(false);
    } finally {
      other.kill();
    }
  });

  it('writes every queued line even when the process calls process.exit() right away', async () => {
    const d = dir();
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const file = join(d, 'exit.log');
    const script = `
      import { accessLog } from ${JSON.stringify(dist)};
      const mw = accessLog({ format: '%U', file: ${JSON.stringify(file)} });
      const app = mw(() => [200, [], []]);
      const finish = [];
      for (let i = 0; i < 100000; i++) {
        const env = { REQUEST_METHOD: 'GET', SCRIPT_NAME: '', PATH_INFO: '/' + i, REQUEST_URI: '/' + i, QUERY_STRING: '', SERVER_PROTOCOL: 'HTTP/1.1', 'plank.finish': [] };
        app(env);
        for (const f of env['plank.finish']) f({ status: 200, bodyBytes: 0, headerBytes: 0, aborted: false });
      }
      process.exit(0);
    `;
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
      child.on('exit', resolve);
    });
    expect(code).toBe(0);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.length).toBe(100_001);
    expect(lines[99_999]).toBe('/99999');
  });
});
