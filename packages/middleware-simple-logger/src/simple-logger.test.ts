import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builder, lint, type App, type LogLevel, type PlankError } from '@plank/core';
import { requestId } from '@plank/middleware-request-id';
import { testApp } from '@plank/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simpleLogger, type SimpleLoggerOptions } from './index.js';

const LINE = /^([DIWEF]) \[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) #(\d+)(?: (\S+))?\] (DEBUG|INFO|WARN|ERROR|FATAL): (.*)$/;
const logEach: App = (env) => {
  for (const level of ['debug', 'info', 'warn', 'error', 'fatal'] as LogLevel[])
    env['psgix.logger']?.({ level, message: `this is ${level}` });
  return [200, ['Content-Type', 'text/plain'], ['ok']];
};
const wrap = (options?: SimpleLoggerOptions, app: App = logEach): App => lint(simpleLogger(options)(lint(app)));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plank-simple-logger-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SimpleLogger', () => {
  it("Plack's simple_logger.t: at level info, info is written to psgi.errors and debug is not", async () => {
    const errors: string[] = [];
    await testApp(
      wrap({ level: 'info' }),
      async (request) => {
        expect((await request('/')).status).toBe(200);
      },
      { errors: { write: (s: string) => errors.push(s) } },
    );
    const text = errors.join('');
    expect(text).toMatch(/this is info/);
    expect(text).not.toMatch(/this is debug/);
  });

  it("writes Plack's format: level letter, local time, pid, LEVEL, message, one line per entry", async () => {
    const errors: string[] = [];
    await testApp(wrap({ level: 'warn' }), async (request) => void (await request('/')), {
      errors: { write: (s: string) => errors.push(s) },
    });
    expect(errors).toHaveLength(3);
    const parsed = errors.map((line) => LINE.exec(line.trimEnd()));
    expect(parsed.map((m) => [m?.[1], m?.[5], m?.[6]])).toEqual([
      ['W', 'WARN', 'this is warn'],
      ['E', 'ERROR', 'this is error'],
      ['F', 'FATAL', 'this is fatal'],
    ]);
    expect(Number(parsed[0]?.[3])).toBe(process.pid);
    expect(errors.every((line) => line.endsWith('\n'))).toBe(true);
  });

  it('indents the continuation lines of a multi-line message, so each entry starts with its level', async () => {
    const errors: string[] = [];
    const app: App = (env) => {
      env['psgix.logger']?.({ level: 'error', message: 'boom\nat a()\nat b()\n' });
      return [200, ['Content-Type', 'text/plain'], ['ok']];
    };
    await testApp(wrap({}, app), async (request) => void (await request('/')), {
      errors: { write: (s: string) => errors.push(s) },
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/ERROR: boom\n {4}at a\(\)\n {4}at b\(\)\n$/);
  });

  it("adds RequestId's id after the pid", async () => {
    const errors: string[] = [];
    const app = builder(({ enable }) => {
      enable(requestId({ generate: () => 'req-7' }));
      enable(simpleLogger({ level: 'fatal' }));
      return logEach;
    });
    await testApp(lint(app), async (request) => void (await request('/')), {
      errors: { write: (s: string) => errors.push(s) },
    });
    expect(LINE.exec((errors[0] ?? '').trimEnd())?.[4]).toBe('req-7');
  });

  it('appends to a file instead, created with mode 0640, and nothing goes to psgi.errors', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, 'earlier line\n');
    const errors: string[] = [];
    await testApp(
      wrap({ level: 'error', file }),
      async (request) => {
        await request('/');
        await request('/');
      },
      { errors: { write: (s: string) => errors.push(s) } },
    );
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe('earlier line');
    expect(lines.filter((l) => LINE.test(l)).map((l) => LINE.exec(l)?.[6])).toEqual([
      'this is error',
      'this is fatal',
      'this is error',
      'this is fatal',
    ]);
    expect(errors).toEqual([]);
    const created = join(dir, 'new.log');
    simpleLogger({ file: created });
    expect(statSync(created).mode & 0o777).toBe(0o640);
  });

  it('refuses a log file that is a symlink, or cannot be opened, when created', () => {
    const target = join(dir, 'elsewhere');
    writeFileSync(target, '');
    symlinkSync(target, join(dir, 'link.log'));
    for (const file of [join(dir, 'link.log'), join(dir, 'missing-dir', 'x.log'), dir]) {
      try {
        simpleLogger({ file });
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code, file).toBe('PLANK_ERR_SIMPLE_LOGGER_FILE');
        expect((err as Error).message).toContain(
          `option "file" cannot be opened for appending, got ${JSON.stringify(file)}`,
        );
      }
    }
  });

  it('keeps answering when the file cannot be written later, and says so once on psgi.errors', async () => {
    const sub = join(dir, 'logs');
    mkdirSync(sub);
    const app = wrap({ file: join(sub, 'app.log') });
    rmSync(sub, { recursive: true });
    const errors: string[] = [];
    await testApp(
      app,
      async (request) => {
        expect((await request('/')).status).toBe(200);
        expect((await request('/')).status).toBe(200);
      },
      { errors: { write: (s: string) => errors.push(s) } },
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^SimpleLogger: cannot write .*app\.log: ENOENT/);
  });

  it('rejects bad options when created, naming the option and the value', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ level: 'warning' }, /option "level" must be one of "debug", "info", "warn", "error", "fatal", got "warning"/],
      [{ file: '' }, /option "file" must be a non-empty path/],
      [{ levle: 'info' }, /unknown option "levle" \(did you mean "level"\?/],
    ];
    for (const [options, message] of bad) {
      try {
        simpleLogger(options as never);
        expect.unreachable();
      } catch (err) {
        expect((err as PlankError).code).toBe('PLANK_ERR_SIMPLE_LOGGER_OPTION');
        expect((err as Error).message).toMatch(message);
      }
    }
  });

  it('resolves by its Plack name in enable()', async () => {
    const errors: string[] = [];
    const app = builder(
      ({ enable }) => {
        enable('SimpleLogger', { level: 'fatal' });
        return logEach;
      },
      { resolveFrom: join(import.meta.dirname, '..') },
    );
    await testApp(lint(app), async (request) => void (await request('/')), {
      errors: { write: (s: string) => errors.push(s) },
    });
    expect(errors.map((l) => LINE.exec(l.trimEnd())?.[6])).toEqual(['this is fatal']);
  });
});
