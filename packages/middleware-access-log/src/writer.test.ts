import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@plank/test';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSink } from './file.js';

// A real full disk: a 64 KiB tmpfs mounted for each test (the tests run as root, as CI does).
const tmp = mkdtempSync(join(tmpdir(), 'plank-al-writer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let disk = '';
let n = 0;
beforeEach(() => {
  disk = join(tmp, String(n++));
  mkdirSync(disk);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
});
afterEach(() => {
  // Lazily, so a failed test that left a file open does not hide its failure behind EBUSY.
  execFileSync('umount', ['-l', disk]);
});

/** Fills the disk to its last byte, or (on an empty disk) leaves `room` bytes, in whole 4 KiB pages. */
function fill(room = 0, name = 'filler'): string {
  const filler = join(disk, name);
  try {
    writeFileSync(filler, Buffer.alloc(64 * 1024 - room));
  } catch (err) {
    // What fitted stays: the disk is full.
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return filler;
}

// 100 bytes each, numbered, so a torn or doubled line shows.
const line = (i: number): string => `line ${String(i).padStart(6, '0')} ${'x'.repeat(87)}\n`;
type Report = Error & { code?: string; dropped?: number };

describe('the file writer on a full disk', () => {
  it('resumes a partial write at its offset, so no line is torn or written twice', async () => {
    const filler = fill(12 * 1024);
    const errors: Report[] = [];
    const sink = fileSink({ path: join(disk, 'access.log') }, (e) => errors.push(e));
    for (let i = 0; i < 400; i++) sink.write(line(i));
    await sink.flush();
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
    // Part of the batch is on disk, ending inside a line.
    expect(readFileSync(join(disk, 'access.log')).length).toBe(12 * 1024);
    for (let i = 400; i < 500; i++) sink.write(line(i));
    rmSync(filler);
    await sink.flush();
    await sink.close();
    expect(readFileSync(join(disk, 'access.log'), 'utf8')).toBe(
      Array.from({ length: 500 }, (_, i) => line(i)).join(''),
    );
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC', 'PLANK_ACCESS_LOG_RECOVERED']);
    expect(errors[1]?.dropped).toBe(0);
  });

  it('keeps waiting lines up to its byte limit, drops and counts the rest, and reports once per episode', async () => {
    const filler = fill();
    const errors: Report[] = [];
    const sink = fileSink({ path: join(disk, 'access.log'), maxPending: 10_000 }, (e) => errors.push(e));
    sink.write(line(0));
    await sink.flush();
    // 100 lines fit in the limit with the one that failed; the next 200 are dropped.
    for (let i = 1; i <= 300; i++) {
      sink.write(line(i));
      if (i % 50 === 0) await sink.flush();
    }
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
    rmSync(filler);
    await sink.flush();
    expect(readFileSync(join(disk, 'access.log'), 'utf8')).toBe(
      Array.from({ length: 101 }, (_, i) => line(i)).join(''),
    );
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC', 'PLANK_ACCESS_LOG_RECOVERED']);
    expect(errors[1]?.dropped).toBe(200);
    expect(errors[1]?.message).toMatch(/works again; 200 lines were dropped/);
    // A second episode is reported again, once.
    const filler2 = fill(0, 'filler2');
    // (the log's last page still has room for some 20 lines)
    for (let i = 0; i < 40; i++) {
      sink.write(line(1000 + i));
      await sink.flush();
    }
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC', 'PLANK_ACCESS_LOG_RECOVERED', 'ENOSPC']);
    rmSync(filler2);
    await sink.close();
    expect(errors.map((e) => e.code)).toEqual([
      'ENOSPC',
      'PLANK_ACCESS_LOG_RECOVERED',
      'ENOSPC',
      'PLANK_ACCESS_LOG_RECOVERED',
    ]);
  });

  it('writes what waited by itself once the disk has room again, without a new line', async () => {
    const filler = fill();
    const errors: Report[] = [];
    const sink = fileSink({ path: join(disk, 'access.log') }, (e) => errors.push(e));
    sink.write(line(0));
    sink.write(line(1));
    await sink.flush();
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
    rmSync(filler);
    await until(() => errors.length === 2, 'the recovery report');
    expect(readFileSync(join(disk, 'access.log'), 'utf8')).toBe(line(0) + line(1));
    await sink.close();
  });

  it('counts the lines it could not write as lost when it is closed while the disk is still full', async () => {
    fill();
    const errors: Report[] = [];
    const sink = fileSink({ path: join(disk, 'access.log') }, (e) => errors.push(e));
    for (let i = 0; i < 5; i++) sink.write(line(i));
    await sink.flush();
    for (let i = 5; i < 8; i++) sink.write(line(i));
    await sink.close();
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC', 'PLANK_ACCESS_LOG_LOST']);
    expect(errors[1]?.dropped).toBe(8);
  });
});

describe('the file writer when its file goes away', () => {
  it('opens the file again when it was removed, and when its directory was replaced by a file', async () => {
    const dir = join(disk, 'logs');
    const file = join(dir, 'access.log');
    const errors: Report[] = [];
    const sink = fileSink({ path: file }, (e) => errors.push(e));
    sink.write(line(0));
    await sink.flush();
    rmSync(dir, { recursive: true });
    // The writer looks for a removed file once a second; wait past that, writing.
    await until(
      async () => {
        sink.write(line(1));
        await sink.flush();
        return existsSync(file);
      },
      'the file made again',
      { interval: 200 },
    );
    expect(readFileSync(file, 'utf8')).toMatch(/^(line 000001 x+\n)+$/);
    expect(errors).toEqual([]);
    // Now a plain file stands where the directory was: opening fails until it is gone.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, '');
    await until(
      async () => {
        sink.write(line(2));
        await sink.flush();
        return errors.length > 0;
      },
      'the open error',
      { interval: 200 },
    );
    expect(errors.map((e) => e.code)).toEqual([expect.stringMatching(/^(ENOTDIR|EEXIST)$/)]);
    rmSync(dir);
    await until(() => errors.length === 2, 'the recovery report');
    expect(readFileSync(file, 'utf8')).toMatch(/^(line 000002 x+\n)+$/);
    expect(errors[1]?.code).toBe('PLANK_ACCESS_LOG_RECOVERED');
    await sink.close();
  });
});

describe('the file writer under a burst', () => {
  it('drops and counts the lines of one turn past its byte limit, with the disk fine', async () => {
    const errors: Report[] = [];
    const sink = fileSink({ path: join(disk, 'access.log'), maxPending: 1000 }, (e) => errors.push(e));
    for (let i = 0; i < 15; i++) sink.write(line(i));
    await sink.flush();
    await sink.close();
    expect(readFileSync(join(disk, 'access.log'), 'utf8')).toBe(Array.from({ length: 10 }, (_, i) => line(i)).join(''));
    expect(errors.map((e) => [e.code, e.dropped])).toEqual([['PLANK_ACCESS_LOG_DROPPED', 5]]);
    expect(errors[0]?.message).toMatch(/^5 lines for .*access\.log were dropped: one event-loop turn made more/);
  });
});
