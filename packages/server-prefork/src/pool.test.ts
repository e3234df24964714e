import { describe, expect, it } from 'vitest';
import { Pool, type PoolPolicy, type PoolWorker, spareOf } from './pool.js';

const policy = (o: Partial<PoolPolicy> = {}): PoolPolicy => ({
  floor: 1,
  max: 64,
  minSpare: 1,
  maxSpare: 2,
  idleTime: 10_000,
  maxSpawnRate: 32,
  ...o,
});
const busy = (n: number, load = 1): PoolWorker[] =>
  Array.from({ length: n }, (_, i) => ({ pid: 100 + i, starting: false, load, inFlight: 1 }));

describe('spareOf', () => {
  it('counts the free part of the event loop, and a starting or silent worker as a whole one', () => {
    expect(spareOf({ pid: 1, starting: false, load: 0.25, inFlight: 300 })).toBe(0.75);
    expect(spareOf({ pid: 1, starting: true, load: 1, inFlight: 0 })).toBe(1);
    expect(spareOf({ pid: 1, starting: false, load: undefined, inFlight: 0 })).toBe(1);
  });
});

describe('Pool', () => {
  it('ramps like Apache while capacity is short: 1, 2, 4, ... workers a second, capped at the spawn rate', () => {
    const pool = new Pool(policy({ max: 200, maxSpawnRate: 32 }));
    let size = 1;
    const spawned: number[] = [];
    for (let t = 0; t < 8; t++) {
      const d = pool.tick(t * 1000, size, busy(size));
      spawned.push(d.spawn);
      size += d.spawn;
    }
    expect(spawned).toEqual([1, 2, 4, 8, 16, 32, 32, 32]);
  });

  it('never spawns past the maximum', () => {
    const pool = new Pool(policy({ max: 6 }));
    let size = 1;
    for (let t = 0; t < 10; t++) size += pool.tick(t * 1000, size, busy(size)).spawn;
    expect(size).toBe(6);
  });

  it('drops the ramp back to 1 once capacity is no longer short', () => {
    const pool = new Pool(policy());
    expect(pool.tick(0, 1, busy(1)).spawn).toBe(1);
    expect(pool.tick(1000, 2, busy(2)).spawn).toBe(2);
    expect(pool.tick(2000, 4, busy(4, 0.5)).spawn).toBe(0);
    expect(pool.tick(3000, 4, busy(4)).spawn).toBe(1);
  });

  it('counts starting workers and those still to be started as spare, so a spawn is not repeated while they load', () => {
    const pool = new Pool(policy());
    const loading = [...busy(2), { pid: 9, starting: true, load: undefined, inFlight: 0 }];
    expect(pool.tick(0, 3, loading).spawn).toBe(0);
    expect(pool.tick(1000, 3, busy(2)).spawn).toBe(0);
  });

  it('keeps the ramp while the workers it started are still loading, and doubles once they are ready and it is still short', () => {
    const pool = new Pool(policy());
    const starting = (pid: number): PoolWorker => ({ pid, starting: true, load: undefined, inFlight: 0 });
    expect(pool.tick(0, 2, busy(2)).spawn).toBe(1);
    expect(pool.tick(1000, 3, [...busy(2), starting(9)]).spawn).toBe(0);
    expect(pool.tick(2000, 3, busy(3)).spawn).toBe(2);
    expect(pool.tick(3000, 5, [...busy(3), starting(9), starting(10)]).spawn).toBe(0);
    expect(pool.tick(4000, 5, busy(5)).spawn).toBe(4);
  });

  it('keeps the ramp through the second a new worker is ready but has not reported its load yet', () => {
    const pool = new Pool(policy());
    expect(pool.tick(0, 2, busy(2)).spawn).toBe(1);
    const silent = { pid: 9, starting: false, load: undefined, inFlight: 0 };
    expect(pool.tick(1000, 3, [...busy(2), silent]).spawn).toBe(0);
    expect(pool.tick(2000, 3, busy(3)).spawn).toBe(2);
  });

  it('does not grow for many requests in flight on an idle event loop', () => {
    const pool = new Pool(policy());
    const waiting = busy(2, 0.05).map((w) => ({ ...w, inFlight: 150 }));
    expect(pool.tick(0, 2, waiting)).toMatchObject({ spawn: 0, retire: undefined });
  });

  it('retires one worker a second, the least loaded, only after capacity stayed above maxSpare for the idle time', () => {
    const pool = new Pool(policy({ floor: 2, idleTime: 10_000 }));
    const idle = [...busy(3, 0.1), { pid: 7, starting: false, load: 0, inFlight: 0 }];
    expect(pool.tick(0, 4, idle).retire).toBeUndefined();
    expect(pool.tick(9_999, 4, idle).retire).toBeUndefined();
    expect(pool.tick(10_000, 4, idle).retire).toBe(7);
    expect(pool.tick(11_000, 3, busy(3, 0.1)).retire).toBe(102);
  });

  it('starts the idle time again when the surplus is interrupted', () => {
    const pool = new Pool(policy({ idleTime: 10_000 }));
    pool.tick(0, 4, busy(4, 0));
    pool.tick(5_000, 4, busy(4, 0.9));
    expect(pool.tick(12_000, 4, busy(4, 0)).retire).toBeUndefined();
    expect(pool.tick(22_000, 4, busy(4, 0)).retire).toBe(103);
  });

  it('never retires below its floor', () => {
    const pool = new Pool(policy({ floor: 3, idleTime: 0 }));
    expect(pool.tick(0, 3, busy(3, 0)).retire).toBeUndefined();
  });
});
