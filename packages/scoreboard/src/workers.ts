import { isAlive } from '@plank/core';
// The workers file: the prefork master's list of its live workers, for readers in other
// processes (this package's scoreboard, ServerStatus::Lite, plank-status). Its one format lives
// here, writer and reader together; @plank/server-prefork writes it through writeMasterList.
import { renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The environment variable that names the workers file in each worker (and its children). */
export const WORKERS_FILE_ENV = 'PLANK_PREFORK_WORKERS';

/** What a worker is doing, as its master sees it. */
export type WorkerState = 'starting' | 'ready' | 'retiring';

/** One live worker, as a prefork master lists it (and as its workers see it in `env['plank.workers']`). */
export type MasterWorker = {
  pid: number;
  /** Stable while the worker lives; the smallest number no other live worker holds, from 1. */
  slot: number;
  /** Bumped by every HUP; workers of older generations are on their way out. */
  generation: number;
  state: WorkerState;
  /** When the master forked it (ms since the epoch). */
  startedAt: number;
  /** Its event loop's utilisation over the last second it reported, 0–1 (prefork's `load` report). */
  load?: number;
  /** Requests it was answering at that moment. */
  inFlight?: number;
  /** Requests it has finished since it started. */
  requests?: number;
};

/** The adaptive pool's bounds (spare capacity in workers, times in ms); see @plank/server-prefork. */
export type PoolPolicyStatus = {
  floor: number;
  max: number;
  minSpare: number;
  maxSpare: number;
  idleTime: number;
  maxSpawnRate: number;
};

/** One second of the pool: workers accepting, busy workers (the sum of their loads), requests per second. */
export type PoolSample = { at: number; workers: number; busy: number; rps: number };

/** A worker the pool started or retired, and why. */
export type PoolEvent = { at: number; event: 'spawn' | 'retire'; pid: number; why: string };

/** What the master says about its pool: the policy (none for a fixed pool), the last minutes, the last events. */
export type PoolStatus = {
  policy?: PoolPolicyStatus;
  /** Spare capacity at the last tick, in workers. */
  spare?: number;
  history: PoolSample[];
  events: PoolEvent[];
};

/** The whole file: the master's pid, when it started, its workers (oldest first), and its pool. */
export type MasterList = { master: number; startedAt: number; workers: MasterWorker[]; pool?: PoolStatus };

const states: ReadonlySet<string> = new Set<WorkerState>(['starting', 'ready', 'retiring']);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Replaces the workers file with `list` (a temporary file renamed over it, so a reader never
 * sees it half-written). Throws what the file system throws; the master reports it.
 *
 * @example
 * ```ts
 * import { writeMasterList } from '@plank/scoreboard';
 * writeMasterList('/run/app/workers.json', { master: process.pid, startedAt: Date.now(), workers: [] });
 * ```
 */
export function writeMasterList(path: string, list: MasterList): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(list));
  renameSync(tmp, path);
}

/**
 * Reads and checks the workers file; undefined when it is missing or not in the expected shape
 * (the master is gone, or has not written it yet). Entries without a usable pid are skipped.
 *
 * @example
 * ```ts
 * import { readMasterList } from '@plank/scoreboard';
 * const list = await readMasterList(process.env.PLANK_PREFORK_WORKERS ?? 'workers.json');
 * ```
 */
export async function readMasterList(path: string): Promise<MasterList | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (data === null || typeof data !== 'object') return undefined;
  const { master, startedAt, workers } = data as Record<string, unknown>;
  if (!isCount(master) || typeof startedAt !== 'number' || !Array.isArray(workers)) return undefined;
  const list: MasterWorker[] = [];
  for (const w of workers as unknown[]) {
    if (w === null || typeof w !== 'object') continue;
    const { pid, slot, generation, state, startedAt: at, load, inFlight, requests } = w as Record<string, unknown>;
    if (!isCount(pid) || pid === 0) continue;
    list.push({
      pid,
      slot: isCount(slot) ? slot : 0,
      generation: isCount(generation) ? generation : 0,
      // A file from a master that did not record states lists workers that were running.
      state: typeof state === 'string' && states.has(state) ? (state as WorkerState) : 'ready',
      startedAt: typeof at === 'number' ? at : 0,
      ...(typeof load === 'number' && load >= 0 && load <= 1 ? { load } : {}),
      ...(isCount(inFlight) ? { inFlight } : {}),
      ...(isCount(requests) ? { requests } : {}),
    });
  }
  const pool = readPool((data as Record<string, unknown>).pool);
  return { master, startedAt, workers: list, ...(pool ? { pool } : {}) };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The pool part of the file, with every entry that is not in the expected shape dropped. */
function readPool(data: unknown): PoolStatus | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const { policy, spare, history, events } = data as Record<string, unknown>;
  const p = policy as Record<string, unknown> | null | undefined;
  const keys = ['floor', 'max', 'minSpare', 'maxSpare', 'idleTime', 'maxSpawnRate'] as const;
  const out: PoolStatus = {
    history: (Array.isArray(history) ? (history as Record<string, unknown>[]) : []).filter(
      (h) => h !== null && typeof h === 'object' && [h.at, h.workers, h.busy, h.rps].every(isNumber),
    ) as PoolSample[],
    events: (Array.isArray(events) ? (events as Record<string, unknown>[]) : []).filter(
      (e) =>
        e !== null &&
        typeof e === 'object' &&
        isNumber(e.at) &&
        (e.event === 'spawn' || e.event === 'retire') &&
        isCount(e.pid) &&
        typeof e.why === 'string',
    ) as PoolEvent[],
  };
  if (p !== null && typeof p === 'object' && keys.every((k) => isNumber(p[k])))
    out.policy = Object.fromEntries(keys.map((k) => [k, p[k]])) as PoolPolicyStatus;
  if (isNumber(spare)) out.spare = spare;
  return out;
}

// Core's, re-exported: this package exported it first.
export { isAlive };
