// Where the status page keeps its scoreboard: checked when the middleware is built (without
// writing anything), created by the first request.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lint, type App } from '@plank/core';
import { testApp, until } from '@plank/test';
import { serverStatusLite, type ServerStatusLiteOptions } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-status-dir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hello: App = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '5'], ['Hello']];
const stack = (options: Partial<ServerStatusLiteOptions>): App =>
  lint(serverStatusLite({ path: '/server-status', allow: ['127.0.0.1'], ...options })(lint(hello)));

describe('the scoreboard directory', () => {
  const tree = (): string[] =>
    execFileSync('find', [dir, '-printf', '%P %y %m\n'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();

  it('is not touched when the middleware is built, and is created 0700 with a 0600 slot by the first request', async () => {
    const app = stack({ scoreboard: join(dir, 'var', 'sb'), counterFile: join(dir, 'var', 'counter') });
    expect(tree()).toEqual([' d 700']);
    await testApp(app, async (request) => {
      expect((await request('/hello')).status).toBe(200);
    });
    // Written by the coalesced flush, at most 100 ms after the request.
    await until(() => tree().length > 1, 'the slot file');
    expect(tree()).toEqual([' d 700', 'var d 700', 'var/sb d 700', `var/sb/status_${process.pid} f 600`]);
  });

  it('refuses, when built, a directory that others may write, in one line naming it and its mode', () => {
    const sb = join(dir, 'open');
    mkdirSync(sb);
    chmodSync(sb, 0o777);
    expect(() => stack({ scoreboard: sb })).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_SCOREBOARD_DIR',
        message: expect.stringMatching(
          new RegExp(
            `^serverStatusLite\\(\\): refusing the directory "${sb}" owned by uid \\d+ with mode 0777: [^\\n]+$`,
          ),
        ),
      }),
    );
  });

  it('accepts a group-writable directory only with groupWritable', () => {
    const sb = join(dir, 'shared');
    mkdirSync(sb);
    // staff: a group of its own, not the owner's private group.
    chownSync(sb, process.geteuid?.() ?? 0, 50);
    chmodSync(sb, 0o770);
    expect(() => stack({ scoreboard: sb })).toThrow(/with mode 0770: it must not be writable by group or others/);
    expect(stack({ scoreboard: sb, groupWritable: true })).toBeTypeOf('function');
  });
});
