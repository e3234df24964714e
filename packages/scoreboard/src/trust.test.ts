import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scoreboard } from './index.js';
import { encodeHeader, seal } from './record.js';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'plank-trust-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const tree = (dir: string): string[] =>
  execFileSync('find', [dir, '-printf', '%P %y %m\n'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
const refusal = (dir: string) => {
  try {
    scoreboard({ dir });
  } catch (err) {
    return err as Error & { code: string };
  }
  throw new Error('scoreboard() accepted the directory');
};

describe('the trust model', () => {
  it('refuses a directory owned by another user, in one line naming the directory, its owner and its mode', () => {
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    const err = refusal(dir);
    expect(err.code).toBe('PLANK_ERR_SCOREBOARD_DIR');
    expect(err.message).toBe(
      `scoreboard(): refusing the directory "${dir}" owned by uid 65534 with mode 0700: it must be owned by uid ${process.geteuid?.()} (this process's user) or root (see the trust model in @plank/scoreboard's README)`,
    );
    expect(err.message).not.toContain('\n');
  });

  it('refuses a directory others may write, sticky or not, and a group-writable one unless groupWritable is set', () => {
    const dir = join(base, 'open');
    mkdirSync(dir);
    for (const mode of [0o777, 0o1777, 0o702]) {
      chmodSync(dir, mode);
      expect(refusal(dir).message).toMatch(
        new RegExp(
          `refusing the directory "${dir}" owned by uid \\d+ with mode 0${mode.toString(8)}: it must not be writable by group or others`,
        ),
      );
    }
    // staff: a group that is not the owner's private group.
    chownSync(dir, process.geteuid?.() ?? 0, 50);
    chmodSync(dir, 0o770);
    expect(refusal(dir).message).toContain('with mode 0770: it must not be writable by group or others');
    expect(scoreboard({ dir, groupWritable: true }).dir).toBe(dir);
    chmodSync(dir, 0o777);
    expect(() => scoreboard({ dir, groupWritable: true })).toThrow('with mode 0777: it must not be writable by others');
  });

  it('refuses a directory inside one that others may write without the sticky bit, naming that one', () => {
    const parent = join(base, 'shared');
    mkdirSync(join(parent, 'board'), { recursive: true, mode: 0o700 });
    chmodSync(parent, 0o777);
    const dir = join(parent, 'board');
    expect(refusal(dir).message).toBe(
      `scoreboard(): refusing the directory "${dir}": "${parent}" owned by uid ${process.geteuid?.()} with mode 0777: it must not be writable by group or others (see the trust model in @plank/scoreboard's README)`,
    );
    // The same place under a sticky directory (as /tmp is) is fine: no one can rename it away.
    chmodSync(parent, 0o1777);
    expect(scoreboard({ dir }).dir).toBe(dir);
  });

  it('refuses a path through a symlink that another user owns', () => {
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    const link = join(base, 'link');
    symlinkSync(real, link);
    execFileSync('chown', ['-h', '65534', link]);
    expect(refusal(join(link, 'board')).message).toContain(`"${link}" owned by uid 65534`);
  });

  it('refuses a directory it cannot write, or a file where the directory should be', () => {
    writeFileSync(join(base, 'file'), '');
    expect(refusal(join(base, 'file', 'board')).message).toBe(
      `scoreboard(): "${join(base, 'file')}" is not a directory (for "${join(base, 'file', 'board')}")`,
    );
  });
  it("accepts group write when the group is the owner's private group (umask 002), as Debian's OpenSSH does", () => {
    // root's group here: named root, no members, nobody else's primary group.
    const dir = join(base, 'upg');
    mkdirSync(join(dir, 'board'), { recursive: true });
    chownSync(dir, 0, 0);
    chmodSync(dir, 0o775);
    chmodSync(join(dir, 'board'), 0o770);
    expect(scoreboard({ dir: join(dir, 'board') }).dir).toBe(join(dir, 'board'));
    // nogroup is no one's private group (nobody's primary group, and not named after root).
    chownSync(join(dir, 'board'), 0, 65534);
    expect(refusal(join(dir, 'board')).message).toContain('with mode 0770: it must not be writable by group or others');
  });
});

describe('a directory this user cannot write', () => {
  it('is refused when the scoreboard is built, naming it, for a user other than root', () => {
    // A child that drops to nobody: root may write anywhere, so only another user can show it.
    chmodSync(base, 0o755);
    const ro = join(base, 'ro');
    mkdirSync(ro, { mode: 0o755 });
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const code = `process.setgid(65534); process.setuid(65534);
      const { scoreboard } = await import(${JSON.stringify(dist)});
      for (const dir of process.argv.slice(1)) {
        try { scoreboard({ dir }); console.log('accepted'); } catch (e) { console.log(e.code + ' ' + e.message); }
      }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, ro, join(ro, 'sb')], {
      encoding: 'utf8',
    });
    expect(r.stdout).toBe(
      `PLANK_ERR_SCOREBOARD_DIR scoreboard(): the directory "${ro}" is not writable by this process (EACCES)\n` +
        `PLANK_ERR_SCOREBOARD_DIR scoreboard(): the parent directory "${ro}" is not writable by this process (EACCES)\n`,
    );
  });
});

describe('creating the scoreboard', () => {
  it('writes nothing when built, then creates the directory 0700 and the slot 0600 at the first update', async () => {
    const dir = join(base, 'var', 'scoreboard');
    const board = scoreboard({ dir, counterFile: join(base, 'var', 'counter') });
    const slot = board.slot();
    expect(tree(base)).toEqual([' d 700']);
    // Listed (it asked for its slot) without a record yet; reading created nothing either.
    expect((await board.read()).workers).toEqual([expect.objectContaining({ pid: process.pid, payload: undefined })]);
    expect(tree(base)).toEqual([' d 700']);
    slot.update('_', 1, 10);
    expect(tree(base)).toEqual([
      ' d 700',
      'var d 700',
      'var/scoreboard d 700',
      `var/scoreboard/status_${process.pid} f 600`,
    ]);
    expect((await board.read()).workers).toEqual([expect.objectContaining({ pid: process.pid, payload: '_' })]);
  });

  it('replaces a planted status_<pid> symlink instead of writing through it, and the victim keeps its content', () => {
    const dir = join(base, 'board');
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(base, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(dir, `status_${process.pid}`));
    scoreboard({ dir }).slot().update('_', 1, 1);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    const st = lstatSync(join(dir, `status_${process.pid}`));
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(1024);
    expect(readdirSync(dir)).toEqual([`status_${process.pid}`]);
  });

  it('refuses to create the directory when someone else made it between start-up and the first update', () => {
    const dir = join(base, 'late');
    const board = scoreboard({ dir });
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (errors.push(s), true)) as typeof write;
    try {
      board.slot().update('_', 1, 1);
      board.slot().update('_', 1, 1);
    } finally {
      process.stderr.write = write;
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^scoreboard: cannot write .*status_\d+; this worker stops updating it: scoreboard\(\): refusing the directory ".*late" owned by uid \d+ with mode 0777/,
    );
    expect(readdirSync(dir)).toEqual([]);
    expect(statSync(dir).mode & 0o777).toBe(0o777);
  });
});

describe('folding into the counter file', () => {
  it('never writes through symlinks planted as the counter file or its temporary file', async () => {
    const dir = join(base, 'board');
    mkdirSync(dir, { mode: 0o700 });
    const counterFile = join(dir, 'counter');
    const victim = join(base, 'victim');
    writeFileSync(victim, 'precious\n');
    // The temporary names a fold writes before its rename (this version's, and the one before).
    symlinkSync(victim, join(dir, `.counter.${process.pid}.tmp`));
    symlinkSync(victim, join(dir, `counter.${process.pid}.tmp`));
    symlinkSync(victim, counterFile);
    // The slot of a worker that has exited, with 7 requests to fold.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(gone.stdout);
    const record = Buffer.alloc(1024);
    encodeHeader(record, pid, 1, 1_700_000_000_000);
    seal(record, 7, 700, '_');
    writeFileSync(join(dir, `status_${pid}`), record);

    const snap = await scoreboard({ dir, counterFile }).read();
    expect(snap.totals).toEqual({ requests: 7, bytes: 700 });
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(counterFile).isFile()).toBe(true);
    expect(statSync(counterFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['counter', `counter.${process.pid}.tmp`]);
  });
});

describe('a read-only scoreboard', () => {
  it("reads another user's directory without writing: dead slots are counted, not folded or removed", async () => {
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o750 });
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const record = Buffer.alloc(1024);
    encodeHeader(record, Number(gone.stdout), 1, 1_700_000_000_000);
    seal(record, 3, 30, '_');
    writeFileSync(join(dir, `status_${gone.stdout}`), record);
    execFileSync('chown', ['-R', '65534', dir]);
    const before = tree(base);

    const board = scoreboard({ dir, counterFile: join(dir, 'counter'), readOnly: true });
    expect((await board.read()).totals).toEqual({ requests: 3, bytes: 30 });
    expect(tree(base)).toEqual(before);
    expect(() => board.slot()).toThrow(
      expect.objectContaining({
        code: 'PLANK_ERR_SCOREBOARD_OPTION',
        message: 'scoreboard(): slot() of a scoreboard opened with readOnly',
      }),
    );
    // Still refused when others than its owner may write it.
    chmodSync(dir, 0o757);
    expect(() => scoreboard({ dir, readOnly: true })).toThrow(
      'with mode 0757: it must not be writable by group or others',
    );
  });
});
