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
};

/** The whole file: the master's pid, when it started, and its workers, oldest first. */
export type MasterList = { master: number; startedAt: number; workers: MasterWorker[] };

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
    const { pid, slot, generation, state, startedAt: at } = w as Record<string, unknown>;
    if (!isCount(pid) || pid === 0) continue;
    list.push({
      pid,
      slot: isCount(slot) ? slot : 0,
      generation: isCount(generation) ? generation : 0,
      // A file from a master that did not record states lists workers that were running.
      state: typeof state === 'string' && states.has(state) ? (state as WorkerState) : 'ready',
      startedAt: typeof at === 'number' ? at : 0,
    });
  }
  return { master, startedAt, workers: list };
}

/**
 * Whether a process with this pid exists (a process of another user counts).
 *
 * @example
 * ```ts
 * import { isAlive } from '@plank/scoreboard';
 * if (!isAlive(pid)) console.log(`${pid} is gone`);
 * ```
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
