import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decode, encodeHeader, seal } from './record.js';
import { scoreboard } from './index.js';

const writer = fileURLToPath(new URL('./fixtures/writer.mjs', import.meta.url));
let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-scoreboard-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer fixture; resolves once it has written (and, unless held, exited). */
function runWriter(board: string, count: number | 'forever', bytes: number, hold = false): Promise<ChildProcess> {
  const child = spawn(process.execPath, [writer, board, String(count), String(bytes), ...(hold ? ['hold'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('writer timed out')), 20_000);
    child.once('error', reject);
    if (hold) {
      child.stdout?.once('data', () => {
        clearTimeout(timer);
        resolve(child);
      });
    } else {
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(child);
        else reject(new Error(`writer exited with ${code}`));
      });
    }
  });
}

describe('a slot record', () => {
  it('decodes what was sealed, and rejects a frame with one byte changed or cut short', () => {
    const buf = Buffer.alloc(256);
    encodeHeader(buf, 1234, 3, 1_700_000_000_000);
    const n = seal(buf, 7, 4096, 'A caf\u00e9');
    expect(decode(buf.subarray(0, n))).toEqual({
      pid: 1234,
      slot: 3,
      startedAt: 1_700_000_000_000,
      requests: 7,
      bytes: 4096,
      payload: 'A caf\u00e9',
    });
    const flipped = Buffer.from(buf);
    flipped[n - 1] = 0x41;
    expect(decode(flipped)).toBeUndefined();
    expect(decode(buf.subarray(0, n - 1))).toBeUndefined();
    expect(decode(Buffer.alloc(256))).toBeUndefined();
  });
});

describe('scoreboard()', () => {
  it('lists the current process with what it wrote and what it counted', async () => {
    const board = scoreboard({ dir, counterFile: join(dir, 'counter') });
    board.slot().update('A GET /', 0, 0);
    board.slot().update('_ GET /', 1, 100);
    const snap = await board.read();
    expect(snap.workers).toEqual([
      expect.objectContaining({ pid: process.pid, slot: 0, payload: '_ GET /', requests: 1, bytes: 100 }),
    ]);
    expect(snap.totals).toEqual({ requests: 1, bytes: 100 });
    expect(snap.master).toBeUndefined();
  });

  it('removes the slots of dead processes and keeps their counts in the counter file', async () => {
    const counterFile = join(dir, 'counter');
    const board = scoreboard({ dir, counterFile });
    const a = await runWriter(dir, 10, 5);
    await runWriter(dir, 20, 5);
    expect(existsSync(join(dir, `status_${a.pid}`))).toBe(true);
    const snap = await board.read();
    expect(snap.workers).toEqual([]);
    expect(snap.totals).toEqual({ requests: 30, bytes: 150 });
    expect(readdirSync(dir).sort()).toEqual(['counter']);
    // The fold happened once: reading again changes nothing.
    expect((await board.read()).totals).toEqual({ requests: 30, bytes: 150 });
    expect(JSON.parse(await readFile(counterFile, 'utf8'))).toMatchObject({ requests: 30, bytes: 150 });
  });

  it('without a counter file, simply deletes dead slots and reports no totals', async () => {
    const board = scoreboard({ dir });
    await runWriter(dir, 3, 1);
    const snap = await board.read();
    expect(snap.totals).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('loses no count when workers die while several readers read at once', async () => {
    const counterFile = join(dir, 'counter');
    const board = scoreboard({ dir, counterFile });
    const workers = [runWriter(dir, 400, 3), runWriter(dir, 400, 3), runWriter(dir, 400, 3), runWriter(dir, 400, 3)];
    let done = false;
    const seen: number[] = [];
    void Promise.all(workers).finally(() => {
      done = true;
    });
    while (!done) {
      const snaps = await Promise.all([board.read(), board.read(), board.read()]);
      for (const s of snaps) seen.push(s.totals?.requests ?? -1);
    }
    await Promise.all(workers);
    const [x, y] = await Promise.all([board.read(), board.read()]);
    expect(x.totals).toEqual({ requests: 1600, bytes: 4800 });
    expect(y.totals).toEqual({ requests: 1600, bytes: 4800 });
    // No reader ever counted a dead worker twice.
    expect(Math.max(...seen)).toBeLessThanOrEqual(1600);
  });

  it('never hands out a torn record while its worker rewrites it', async () => {
    const child = await runWriter(dir, 1, 0, true);
    // A second writer in the same directory, rewriting its slot without pause while we read it.
    const hammer = await runWriter(dir, 'forever', 1, true);
    const board = scoreboard({ dir });
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const snap = await board.read();
      for (const w of snap.workers) {
        if (w.pid !== hammer.pid || w.payload === undefined) continue;
        const [xs, n] = w.payload.split('|');
        expect(xs).toBe('x'.repeat(Number(n)));
        checked++;
      }
    }
    expect(checked).toBe(300);
    expect((await board.read()).workers.map((w) => w.pid)).toContain(child.pid);
  });

  it("lists the master's workers that have not written a slot yet, and not its dead ones", async () => {
    const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(idle);
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    const writing = await runWriter(dir, 1, 0, true);
    const workersFile = join(dir, '..', `${dir.split('/').pop()}.workers.json`);
    await writeFile(
      workersFile,
      JSON.stringify({
        master: process.pid,
        startedAt: 1_700_000_000_000,
        workers: [
          { pid: writing.pid, slot: 1, generation: 2, startedAt: 1 },
          { pid: idle.pid, slot: 2, generation: 2, startedAt: 2 },
          { pid: gone.pid, slot: 3, generation: 2, startedAt: 3 },
        ],
      }),
    );
    try {
      const snap = await scoreboard({ dir, workersFile }).read();
      expect(snap.master).toEqual({ pid: process.pid, startedAt: 1_700_000_000_000 });
      expect(snap.workers.map((w) => [w.pid, w.slot, w.generation, w.payload])).toEqual([
        [writing.pid, 1, 2, '|0'],
        [idle.pid, 2, 2, undefined],
      ]);
    } finally {
      await rm(workersFile, { force: true });
    }
  });

  it("tells each listed worker's state: ready with a slot, starting without one, retiring from an older generation", async () => {
    const idle = () => {
      const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      children.push(c);
      return c.pid as number;
    };
    const [fresh, old] = [idle(), idle()];
    const writing = await runWriter(dir, 1, 0, true);
    const workersFile = join(dir, 'workers.json');
    await writeFile(
      workersFile,
      JSON.stringify({
        master: process.pid,
        startedAt: 1,
        workers: [
          { pid: writing.pid, slot: 1, generation: 3, startedAt: 1 },
          { pid: fresh, slot: 2, generation: 3, startedAt: 2 },
          { pid: old, slot: 3, generation: 2, startedAt: 3 },
        ],
      }),
    );
    const snap = await scoreboard({ dir, workersFile }).read();
    expect(snap.workers.map((w) => [w.pid, w.state])).toEqual([
      [writing.pid, 'ready'],
      [fresh, 'starting'],
      [old, 'retiring'],
    ]);
    // Without a master there is no one to say.
    expect((await scoreboard({ dir }).read()).workers.map((w) => w.state)).toEqual([undefined]);
  });

  it("lists a worker the master is retiring in the newest generation as retiring, with the load the master reports, and the master's pool", async () => {
    const writing = await runWriter(dir, 1, 0, true);
    const workersFile = join(dir, 'workers.json');
    const pool = { history: [{ at: 1, workers: 1, busy: 0.3, rps: 12 }], events: [] };
    await writeFile(
      workersFile,
      JSON.stringify({
        master: process.pid,
        startedAt: 1,
        workers: [
          { pid: writing.pid, slot: 1, generation: 1, state: 'retiring', startedAt: 1, load: 0.3, inFlight: 2 },
        ],
        pool,
      }),
    );
    const snap = await scoreboard({ dir, workersFile }).read();
    expect(snap.workers.map((w) => [w.pid, w.state, w.load, w.inFlight])).toEqual([[writing.pid, 'retiring', 0.3, 2]]);
    expect(snap.master).toEqual({ pid: process.pid, startedAt: 1, pool });
  });

  it('reads the master list from PLANK_PREFORK_WORKERS and ignores a list it cannot parse', async () => {
    const workersFile = join(dir, 'workers.json');
    await writeFile(workersFile, '{"master": 1, "startedAt": 5, "work');
    process.env.PLANK_PREFORK_WORKERS = workersFile;
    try {
      const board = scoreboard({ dir });
      board.slot().update('_', 0, 0);
      const snap = await board.read();
      expect(snap.master).toBeUndefined();
      expect(snap.workers.map((w) => w.pid)).toEqual([process.pid]);
    } finally {
      delete process.env.PLANK_PREFORK_WORKERS;
    }
  });

  it.each([
    [{ dir: '' }, /option "dir" must be a non-empty path without NUL characters, got ""/],
    [{}, /option "dir" is required \(the slot directory\), got undefined/],
    ['/run/sb', /options must be an object, got "\/run\/sb"/],
    [{ dir: 'x', counterFile: 5 }, /option "counterFile" must be a non-empty path without NUL characters, got 5/],
    [{ dir: 'x', workersFile: '' }, /option "workersFile" must be a non-empty path/],
    [{ dir: 'x', recordSize: 10 }, /option "recordSize" must be an integer from 112 to 65536, got 10/],
    [{ dir: 'x', groupWritable: 'yes' }, /option "groupWritable" must be a boolean/],
    [{ dir: 'x', size: 1 }, /unknown option "size" \(known options: dir, counterFile, /],
    [{ dir: 'x', recordsize: 512 }, /unknown option "recordsize" \(did you mean "recordSize"\?; known options: /],
  ])('refuses %j with PLANK_ERR_SCOREBOARD_OPTION', (options, message) => {
    expect(() => scoreboard(options as never)).toThrow(
      expect.objectContaining({ code: 'PLANK_ERR_SCOREBOARD_OPTION', message: expect.stringMatching(message) }),
    );
  });

  it('takes recordSize and groupWritable as the strings a command line passes', async () => {
    const board = scoreboard({ dir, recordSize: '256', groupWritable: 'false' } as never);
    board.slot().update('_', 1, 1);
    expect((await readFile(join(dir, `status_${process.pid}`))).length).toBe(256);
  });
});
