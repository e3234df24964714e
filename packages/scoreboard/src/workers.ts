import { readFile } from 'node:fs/promises';

/** One worker as a prefork master lists it in the `PLANK_PREFORK_WORKERS` file. */
export type MasterWorker = { pid: number; slot: number; generation: number; startedAt: number };

/** The master's view: rewritten by it (temp file + rename) whenever its worker set changes. */
export type MasterList = { master: number; startedAt: number; workers: MasterWorker[] };

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads and checks the master's worker list; undefined when it is missing or not in the expected shape. */
export async function readMasterList(path: string): Promise<MasterList | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    // The master is gone or has not written it yet: list what the slots say.
    return undefined;
  }
  if (data === null || typeof data !== 'object') return undefined;
  const { master, startedAt, workers } = data as Record<string, unknown>;
  if (!isCount(master) || typeof startedAt !== 'number' || !Array.isArray(workers)) return undefined;
  const list: MasterWorker[] = [];
  for (const w of workers as unknown[]) {
    if (w === null || typeof w !== 'object') continue;
    const { pid, slot, generation, startedAt: at } = w as Record<string, unknown>;
    if (!isCount(pid) || pid === 0) continue;
    list.push({
      pid,
      slot: isCount(slot) ? slot : 0,
      generation: isCount(generation) ? generation : 0,
      startedAt: typeof at === 'number' ? at : 0,
    });
  }
  return { master, startedAt, workers: list };
}

/** Whether a process with this pid exists (a process of another user counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
