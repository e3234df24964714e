// The counter file holds what dead workers counted. Live workers keep their own cumulative
// counters in their slots (one writer each, so no increment is ever lost and the hot path
// takes no lock); the total is this base plus every slot. When a worker is gone, a reader
// folds its counters into the base under a lock file that only folding takes, and records the
// worker's id, so a reader that saw the slot before the fold and the base after it skips the
// slot instead of counting it twice.
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { isAlive } from './workers.js';

/** Ids kept for dedup: far more folds than can happen while one reader reads. */
const RECENT = 128;
/** A lock older than this is stale even if a process with its pid exists (pid reuse). */
const STALE_MS = 30_000;

export type CounterBase = { requests: number; bytes: number; folded: string[] };

export async function readBase(file: string): Promise<CounterBase> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as Partial<CounterBase>;
    return {
      requests: typeof data.requests === 'number' ? data.requests : 0,
      bytes: typeof data.bytes === 'number' ? data.bytes : 0,
      folded: Array.isArray(data.folded) ? data.folded.filter((s): s is string => typeof s === 'string') : [],
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { requests: 0, bytes: 0, folded: [] };
    throw err;
  }
}

/** Takes the fold lock, or returns undefined when another live process holds it (the caller folds another time). */
async function lock(file: string): Promise<(() => Promise<void>) | undefined> {
  const path = `${file}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => unlink(path).catch(() => {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(path, 'utf8').catch(() => ''));
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // An empty file is a holder between open and write; leave it be unless it is old.
      if ((holder > 0 && !isAlive(holder)) || age > STALE_MS) await unlink(path).catch(() => {});
      else return undefined;
    }
  }
  return undefined;
}

export type DeadSlot = { path: string; id: string; requests: number; bytes: number };

/**
 * Adds the counters of dead workers to the base and removes their slot files. Returns the
 * base as written, or undefined when the lock was busy (the slots stay, still counted).
 */
export async function fold(file: string, dead: DeadSlot[]): Promise<CounterBase | undefined> {
  const release = await lock(file);
  if (!release) return undefined;
  try {
    const base = await readBase(file);
    const seen = new Set(base.folded);
    for (const d of dead) {
      if (seen.has(d.id)) continue;
      base.requests += d.requests;
      base.bytes += d.bytes;
      base.folded.push(d.id);
      seen.add(d.id);
    }
    if (base.folded.length > RECENT) base.folded = base.folded.slice(-RECENT);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(base)}\n`);
    await rename(tmp, file);
    // After the base: a crash in between leaves a slot whose id the base already lists.
    await Promise.all(dead.map((d) => unlink(d.path).catch(() => {})));
    return base;
  } finally {
    await release();
  }
}
