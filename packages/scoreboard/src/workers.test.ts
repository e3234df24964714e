import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, type MasterList, readMasterList, writeMasterList } from './workers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plank-workers-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const list: MasterList = {
  master: 4242,
  startedAt: 1_700_000_000_000,
  workers: [
    { pid: 4243, slot: 1, generation: 2, state: 'ready', startedAt: 1_700_000_000_100 },
    { pid: 4244, slot: 2, generation: 3, state: 'starting', startedAt: 1_700_000_000_200 },
  ],
};

describe('the workers file', () => {
  it('reads back exactly what the master wrote, and leaves no temporary file behind', async () => {
    const path = join(dir, 'workers.json');
    writeMasterList(path, list);
    writeMasterList(path, { ...list, workers: list.workers.slice(1) });
    expect(await readMasterList(path)).toEqual({ ...list, workers: list.workers.slice(1) });
    expect(await readdir(dir)).toEqual(['workers.json']);
  });

  it('is undefined when missing, half-written or of another shape, and skips entries without a pid', async () => {
    const path = join(dir, 'workers.json');
    expect(await readMasterList(path)).toBeUndefined();
    await writeFile(path, '{"master": 1, "startedAt": 5, "work');
    expect(await readMasterList(path)).toBeUndefined();
    await writeFile(path, JSON.stringify({ master: 'me', startedAt: 5, workers: [] }));
    expect(await readMasterList(path)).toBeUndefined();
    await writeFile(path, JSON.stringify({ master: 1, startedAt: 5, workers: [{ slot: 1 }, null, { pid: 9 }] }));
    expect(await readMasterList(path)).toEqual({
      master: 1,
      startedAt: 5,
      // A file from a master that recorded no states lists workers that were running.
      workers: [{ pid: 9, slot: 0, generation: 0, state: 'ready', startedAt: 0 }],
    });
  });

  it('carries the load of each worker and the pool, and drops the parts of them that are not in shape', async () => {
    const path = join(dir, 'workers.json');
    const pool: MasterList['pool'] = {
      policy: { floor: 2, max: 8, minSpare: 1, maxSpare: 2, idleTime: 300_000, maxSpawnRate: 32 },
      spare: 0.4,
      history: [{ at: 1, workers: 2, busy: 1.6, rps: 400 }],
      events: [{ at: 2, event: 'spawn', pid: 4245, why: 'spare capacity below minSpare' }],
    };
    const loaded = { ...list, workers: [{ ...list.workers[0], load: 0.8, inFlight: 3, requests: 90 }], pool };
    writeMasterList(path, loaded as MasterList);
    expect(await readMasterList(path)).toEqual(loaded);
    await writeFile(
      path,
      JSON.stringify({
        ...list,
        workers: [{ ...list.workers[0], load: 7, inFlight: -1, requests: 'many' }],
        pool: { policy: { floor: 2 }, spare: 'x', history: [{ at: 1 }, pool.history[0]], events: [{ event: 'boom' }] },
      }),
    );
    expect(await readMasterList(path)).toEqual({
      ...list,
      workers: [list.workers[0]],
      pool: { history: pool.history, events: [] },
    });
  });

  it('tells a live process from one that has exited', async () => {
    expect(isAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid as number;
    await new Promise((r) => child.once('exit', r));
    expect(isAlive(pid)).toBe(false);
  });
});
